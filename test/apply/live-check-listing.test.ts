/**
 * readLiveState with many changed users: one listing of HelloID's users instead of a
 * read per user, and a user the listing lacks (deleted, or hidden by a page shift) still
 * read on its own, so the display check sees exactly what per-user reads would show.
 */
import { describe, expect, it } from 'vitest';
import type { HelloIdUser } from '../../src/core/types.js';
import { displayProblems, readLiveState } from '../../src/apply/live-check.js';
import { makeConfig, makePlan, U } from '../plan/helpers.js';
import { FakeHelloId } from './fake-helloid.js';

/** The fake with the optional user listing; `unlisted` users are left out of it. */
class ListingFake extends FakeHelloId {
  listCalls = 0;
  readonly unlisted = new Set<string>();
  async listUsers(): Promise<HelloIdUser[]> {
    this.listCalls++;
    await new Promise((r) => setTimeout(r, 0));
    return [...this.users].filter(([guid]) => !this.unlisted.has(guid)).map(([userGuid, userName]) => ({ userGuid, userName }));
  }
}

/** A ListingFake holding what HelloID showed when the plan was made. */
function listingFake(plan: ReturnType<typeof makePlan>): ListingFake {
  const api = new ListingFake();
  const base = FakeHelloId.fromPlan(plan);
  for (const [k, v] of base.members) api.members.set(k, v);
  for (const [k, v] of base.groupInfo) api.groupInfo.set(k, v);
  for (const [k, v] of base.users) api.users.set(k, v);
  return api;
}

describe('readLiveState', () => {
  it('lists the users once when more than 1,000 are to be checked, and reads only those the list lacks', async () => {
    // makePlan: 4 changes of users 2..5; 340 extra groups of 3 new users each: 1,024 users.
    const plan = makePlan({ extraGroups: 340, usersPerExtraGroup: 3 });
    const api = listingFake(plan);
    api.unlisted.add(U(1000));
    api.users.set(U(4), 'someone.else@contoso.com');

    const live = await readLiveState(plan, api, 4);
    expect(api.listCalls).toBe(1);
    expect(api.userReads).toEqual([U(1000)]);
    expect(live.users.size).toBe(1024);
    expect(live.users.get(U(1000))).toEqual({ userGuid: U(1000), userName: plan.changes.find((c) => c.userGuid === U(1000))!.userName });
    expect(displayProblems(plan, live, makeConfig())).toEqual([
      `user 'user4@contoso.com' (${U(4)}): this GUID is HelloID user 'someone.else@contoso.com', not 'user4@contoso.com'`,
    ]);
  });

  it('reads each user when there are few', async () => {
    const plan = makePlan();
    const api = listingFake(plan);
    const live = await readLiveState(plan, api, 4);
    expect(api.listCalls).toBe(0);
    expect([...api.userReads].sort()).toEqual([U(2), U(3), U(4), U(5)]);
    expect(live.users.size).toBe(4);
  });
});
