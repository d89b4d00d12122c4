/**
 * What the reviewer saw against HelloID as it is now (spec §6). A plan body is data,
 * not authority: whoever can commit can swap a group or user GUID and recompute the
 * digest, and the reviewer, who reads names, would approve it. So before any write
 * apply reads every affected group and every user it would change, live, and refuses
 * when a group's name is not the one in the plan or is not an owner group under this
 * configuration, or when a user GUID does not belong to the plan's userName.
 *
 * Names compare after trimming, case-insensitively (NFC, as core's group matching
 * does): HelloID treats group and user names case-insensitively, and a case-only
 * difference does not change which group or person a reviewer meant. Any other
 * difference, a rename included, is a refusal; planning again shows the new name.
 *
 * The group read also gives the members for the drift check: one GET per group.
 */
import { RefusedError } from '../errors.js';
import type { EffectiveConfig } from '../config/types.js';
import { exactNameKey, fitsOwnerGroupPattern } from '../core/naming.js';
import type { HelloIdUser } from '../core/types.js';
import type { HelloIdWriteApi, LiveGroup } from '../helloid/types.js';
import type { PlanFile } from '../plan/types.js';
import { runPool } from '../pool.js';
import { workersFor } from './execute.js';

export interface LiveState {
  /** By lower-case group GUID: every affected group of the plan. */
  groups: Map<string, LiveGroup>;
  /** By lower-case user GUID: every user of the plan's changes; undefined = HelloID answered 404. */
  users: Map<string, HelloIdUser | undefined>;
  /** Lower-case GUIDs of affected groups HelloID answered 404 for: deleted since the plan. */
  goneGroups: Set<string>;
}

const lc = (s: string): string => s.toLowerCase();
const nameKey = (s: string): string => exactNameKey(s.trim());

/**
 * Above this many users to check, one listing of every HelloID user is cheaper than a
 * read per user: 10,000 changed users are 10,000 reads, while listing a 20,000-user
 * tenant takes about 20 pages (of 1,000). Below it the reads are few and a large
 * tenant's listing would cost more than them.
 */
const LIST_USERS_ABOVE = 1000;

/** Read the plan's groups and changed users, at most `concurrency` reads at a time. Never writes. */
export async function readLiveState(plan: PlanFile, api: HelloIdWriteApi, concurrency: number): Promise<LiveState> {
  const groups = new Map<string, LiveGroup>();
  const users = new Map<string, HelloIdUser | undefined>();
  const goneGroups = new Set<string>();
  const userGuids = [...new Set(plan.changes.map((c) => lc(c.userGuid)))];
  // Many users: list them all while the groups are read (a user the list lacks, e.g.
  // one deleted or hidden by a page shift, is then read on its own, as before).
  const listed = userGuids.length > LIST_USERS_ABOVE && api.listUsers ? api.listUsers() : undefined;
  listed?.catch(() => {});
  type Read = { kind: 'group' | 'user'; guid: string };
  const read = async (reads: Read[]): Promise<void> => {
    // Like the writes: reads waiting out a Retry-After should not idle the service.
    await runPool(reads, workersFor(api, concurrency), async (r) => {
      if (r.kind === 'user') {
        users.set(r.guid, await api.getUser(r.guid));
        return;
      }
      // A group HelloID no longer has is an answer, not a failed read: the group the
      // reviewer saw is gone, which is a refusal (exit 3), not an error.
      const group = await api.getGroup(r.guid);
      if (group) groups.set(lc(r.guid), group);
      else goneGroups.add(lc(r.guid));
    });
  };
  const groupReads = plan.groups.map((g): Read => ({ kind: 'group', guid: g.groupGuid }));
  if (!listed) {
    await read([...groupReads, ...userGuids.map((guid): Read => ({ kind: 'user', guid }))]);
    return { groups, users, goneGroups };
  }
  await read(groupReads);
  const wanted = new Set(userGuids);
  for (const u of await listed) if (wanted.has(lc(u.userGuid))) users.set(lc(u.userGuid), u);
  await read(userGuids.filter((guid) => !users.has(guid)).map((guid): Read => ({ kind: 'user', guid })));
  return { groups, users, goneGroups };
}

/** One line per group or user whose live name does not match the plan; [] when all match. */
export function displayProblems(plan: PlanFile, live: LiveState, config: EffectiveConfig): string[] {
  const problems: string[] = [];
  const sync = config.sync;
  for (const g of plan.groups) {
    const now = live.groups.get(lc(g.groupGuid));
    const label = `group '${g.groupName}' (${g.groupGuid})`;
    if (live.goneGroups.has(lc(g.groupGuid))) {
      problems.push(`${label}: HelloID has no group with this GUID any more (404)`);
      continue;
    }
    if (!now) {
      problems.push(`${label}: not read from HelloID`);
      continue;
    }
    if (nameKey(now.name) !== nameKey(g.groupName)) {
      problems.push(`${label}: HelloID now calls this group '${now.name}'; the plan (and its reviewer) says '${g.groupName}'`);
    }
    if (!fitsOwnerGroupPattern(now.name.trim(), now.source, sync)) {
      problems.push(
        `${label}: '${now.name}' (source ${now.source || 'Local'}) is not a resource-owner group under this configuration ` +
          `(name '${sync.groupPrefix}…${sync.groupSuffix}', source ${sync.groupSource || 'Local'})`,
      );
    }
  }
  const seen = new Set<string>();
  for (const c of plan.changes) {
    const guid = lc(c.userGuid);
    if (seen.has(guid)) continue;
    seen.add(guid);
    const label = `user '${c.userName}' (${c.userGuid})`;
    if (!live.users.has(guid)) problems.push(`${label}: not read from HelloID`);
    else {
      const user = live.users.get(guid);
      if (user === undefined) problems.push(`${label}: HelloID has no user with this GUID`);
      else if (nameKey(user.userName) !== nameKey(c.userName)) problems.push(`${label}: this GUID is HelloID user '${user.userName}', not '${c.userName}'`);
    }
  }
  return problems;
}

/** The refusal for displayProblems, or undefined when there are none. */
export function displayRefusal(plan: PlanFile, live: LiveState, config: EffectiveConfig, file: string): RefusedError | undefined {
  const problems = displayProblems(plan, live, config);
  if (problems.length === 0) return undefined;
  return new RefusedError(
    [
      `refusing to apply ${file}: what it shows the reviewer does not match HelloID (the plan's GUIDs would change other groups or users than its names say). Nothing was changed.`,
      ...problems.map((p) => `  - ${p}`),
      'Run `ownersync plan` again and have the new plan reviewed; if the plan file was edited by hand, find out by whom.',
    ].join('\n'),
  );
}
