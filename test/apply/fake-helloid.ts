/** In-memory HelloIdWriteApi for unit tests of verification, drift and execution. */
import type { HelloIdUser } from '../../src/core/types.js';
import type { AddOutcome, HelloIdWriteApi, LiveGroup, RemoveOutcome, WriteOptions } from '../../src/helloid/types.js';
import type { PlanFile } from '../../src/plan/types.js';

export interface FakeWrite {
  op: 'add' | 'remove';
  groupGuid: string;
  userGuid: string;
}

export class FakeHelloId implements HelloIdWriteApi {
  readonly members = new Map<string, Set<string>>();
  /** Group name and source by guid (what getGroup reports besides the members). */
  readonly groupInfo = new Map<string, { name: string; source: string | null }>();
  /** userName by user guid; a guid not here is a 404. */
  readonly users = new Map<string, string>();
  readonly writes: FakeWrite[] = [];
  readonly reads: string[] = [];
  /** `group/user` pairs whose writes fail. */
  readonly failing = new Set<string>();
  /** Artificial latency per write, in ms (0 = next macrotask). */
  delayMs = 0;
  inFlight = 0;
  maxInFlight = 0;

  static fromPlan(plan: PlanFile, which: 'observed' | 'planned' = 'observed'): FakeHelloId {
    const api = new FakeHelloId();
    for (const g of plan.groups) {
      api.members.set(g.groupGuid, new Set(which === 'observed' ? g.observedMembers : g.plannedMembers));
      api.groupInfo.set(g.groupGuid, { name: g.groupName, source: 'Local' });
    }
    for (const c of [...plan.changes, ...plan.kept]) api.users.set(c.userGuid, c.userName);
    return api;
  }

  private group(groupGuid: string): Set<string> {
    let s = this.members.get(groupGuid);
    if (!s) this.members.set(groupGuid, (s = new Set()));
    return s;
  }

  async getGroupMembers(groupGuid: string): Promise<string[]> {
    this.reads.push(groupGuid);
    await new Promise((r) => setTimeout(r, 0));
    return [...this.group(groupGuid)];
  }

  async getGroup(groupGuid: string): Promise<LiveGroup | undefined> {
    const members = await this.getGroupMembers(groupGuid);
    const info = this.groupInfo.get(groupGuid) ?? { name: '', source: null };
    return { groupGuid, name: info.name, source: info.source, members };
  }

  readonly userReads: string[] = [];

  async getUser(userGuid: string): Promise<HelloIdUser | undefined> {
    this.userReads.push(userGuid);
    await new Promise((r) => setTimeout(r, 0));
    const userName = this.users.get(userGuid);
    return userName === undefined ? undefined : { userGuid, userName };
  }

  private async write<T>(op: 'add' | 'remove', groupGuid: string, userGuid: string, apply: () => T, options: WriteOptions): Promise<T> {
    // As the real client does: the hook runs once, just before the write is sent.
    await options.beforeSend?.();
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise((r) => setTimeout(r, this.delayMs));
      this.writes.push({ op, groupGuid, userGuid });
      if (this.failing.has(`${groupGuid}/${userGuid}`)) {
        throw new Error(`POST https://contoso.helloid.com/api/v1/groups/${groupGuid}/users: 503 Service Unavailable (after 5 attempts)`);
      }
      return apply();
    } finally {
      this.inFlight--;
    }
  }

  addMember(groupGuid: string, userGuid: string, options: WriteOptions = {}): Promise<AddOutcome> {
    return this.write('add', groupGuid, userGuid, () => {
      const g = this.group(groupGuid);
      if (g.has(userGuid)) return 'already-member';
      g.add(userGuid);
      return 'added';
    }, options);
  }

  removeMember(groupGuid: string, userGuid: string, options: WriteOptions = {}): Promise<RemoveOutcome> {
    return this.write('remove', groupGuid, userGuid, () => {
      const g = this.group(groupGuid);
      if (!g.has(userGuid)) return 'not-a-member';
      g.delete(userGuid);
      return 'removed';
    }, options);
  }

  sorted(groupGuid: string): string[] {
    return [...this.group(groupGuid)].sort();
  }
}
