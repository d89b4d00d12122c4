/**
 * readAndDiff's HelloID member reads: started per group page while the listing is
 * still running, only for groups that can be an in-scope mailbox's owner group (a
 * bounded number on a name-pattern guess before the mailbox list is in), and only
 * the groups the complete list matches count.
 */
import { describe, expect, it } from 'vitest';
import type { ExchangeGroup, ExchangeUser, HelloIdGroup, HelloIdUser, Mailbox, SyncOptions } from '../../src/core/types.js';
import type { ExchangeSource, HelloIdSource } from '../../src/sync/sources.js';
import { readAndDiff, readSnapshots } from '../../src/sync/read.js';

const OPTS: SyncOptions = {
  groupSource: 'Local',
  groupPrefix: '',
  groupSuffix: ' Resource Owners',
  removeMembers: false,
  protectedUsers: [],
  expandGroups: true,
  limits: { maxRemovals: 100, maxRemovalPercent: 25, allowEmptyingGroups: false },
};

const USERS: ExchangeUser[] = [{ userPrincipalName: 'anna@contoso.com' }, { userPrincipalName: 'bram@contoso.com' }];
const HID_USERS: HelloIdUser[] = [
  { userGuid: 'u-anna', userName: 'anna@contoso.com' },
  { userGuid: 'u-bram', userName: 'bram@contoso.com' },
];

function mailbox(name: string, holder: string): Mailbox {
  return { guid: `g-${name}`, displayName: name, primarySmtpAddress: `${name.toLowerCase()}@contoso.com`, permissions: [{ trustee: holder, accessRights: ['FullAccess'], isInherited: false, deny: false }] };
}

const group = (groupGuid: string, name: string, source: string | null = 'Local'): HelloIdGroup => ({ groupGuid, name, source, members: null });

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function exchangeSource(mailboxes: Promise<Mailbox[]>): ExchangeSource {
  return {
    listMailboxes: () => mailboxes,
    listUsers: async () => USERS,
    readPermissions: async (m) => m,
    resolveGroups: async () => ({ groups: [] as ExchangeGroup[], failedLookups: [] }),
  };
}

/** A HelloID source whose listGroups pages through `pages`, each released by the test. */
function pagedHelloId(pages: HelloIdGroup[][], gates: Array<Promise<void>>, members: Record<string, string[]>) {
  const reads: string[][] = [];
  const source: HelloIdSource & { listGroups(onPage?: (g: HelloIdGroup[]) => void): Promise<HelloIdGroup[]> } = {
    listUsers: async () => HID_USERS,
    listGroups: async (onPage?: (g: HelloIdGroup[]) => void) => {
      const all: HelloIdGroup[] = [];
      for (let i = 0; i < pages.length; i++) {
        await gates[i];
        all.push(...(pages[i] ?? []));
        onPage?.(pages[i] ?? []);
      }
      return all;
    },
    readMembers: async (guids) => {
      reads.push([...guids]);
      return new Map(guids.map((g) => [g, members[g] ?? []] as const));
    },
    lookupUsers: async (guids) => new Map(guids.map((g) => [g, null] as const)),
  };
  return { source, reads };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('readSnapshots / readAndDiff: owner-group member reads', () => {
  it('reads candidates per page as pages arrive, and keeps only what the full list matches', async () => {
    const mbx = deferred<Mailbox[]>();
    const gate2 = deferred<void>();
    const pages = [
      [group('g1', 'Sales Resource Owners'), group('f1', 'Filler'), group('x1', 'Other Resource Owners', 'AzureAD')],
      // "Café" folds to the same key as "Cafe": with both present the exact one wins; Support is ambiguous (two exact).
      [group('g2', 'Support Resource Owners'), group('g3', 'support resource owners'), group('c1', 'Cafe Resource Owners'), group('c2', 'Café Resource Owners')],
    ];
    const { source, reads } = pagedHelloId(pages, [Promise.resolve(), gate2.promise], { g1: ['u-anna'], c1: ['u-bram'] });
    const run = readSnapshots(exchangeSource(mbx.promise), source, { ...OPTS, mailboxFilter: "Name -like '*'" });
    await tick();
    // A mailbox filter is set: no guessing before the mailbox list is in.
    expect(reads).toEqual([]);
    mbx.resolve([mailbox('Sales', 'anna@contoso.com'), mailbox('Support', 'bram@contoso.com'), mailbox('Cafe', 'bram@contoso.com')]);
    await tick();
    // Page 1 searched as soon as the mailboxes are known, before page 2 has come.
    expect(reads).toEqual([['g1']]);
    gate2.resolve();
    const result = await run;
    expect(reads.flat().sort()).toEqual(['c1', 'c2', 'g1', 'g2', 'g3']);
    const byGuid = new Map(result.helloid.groups.map((g) => [g.groupGuid, g]));
    expect(byGuid.get('g1')?.members).toEqual(['u-anna']);
    expect(byGuid.get('c1')?.members).toEqual(['u-bram']);
    // Read on the strength of the name, but not a match in the end: not counted as read.
    for (const g of ['c2', 'g2', 'g3', 'f1', 'x1']) expect(byGuid.get(g)?.members).toBeNull();
    expect(result.counts.ownerGroupsRead).toBe(2);
  });

  it('guesses from the name pattern before the mailbox list is in, a bounded number', async () => {
    const mbx = deferred<Mailbox[]>();
    const many = Array.from({ length: 300 }, (_, i) => group(`o${i}`, `Box ${i} Resource Owners`));
    const { source, reads } = pagedHelloId([[group('f', 'Filler'), group('a', 'Other Resource Owners', 'AzureAD'), ...many]], [Promise.resolve()], {});
    const run = readAndDiff(exchangeSource(mbx.promise), source, OPTS);
    await tick();
    const guessed = reads.flat();
    expect(guessed.length).toBe(200);
    expect(guessed).not.toContain('f');
    expect(guessed).not.toContain('a');
    mbx.resolve([mailbox('Box 1', 'anna@contoso.com'), mailbox('Box 250', 'bram@contoso.com')]);
    const result = await run;
    // Box 250 was beyond the guess and is read once the mailboxes are known; nothing twice.
    expect(reads.flat().filter((g) => g === 'o250')).toHaveLength(1);
    expect(new Set(reads.flat()).size).toBe(reads.flat().length);
    expect(result.counts.ownerGroupsRead).toBe(2);
  });

  it('works with a HelloID source that does not report pages', async () => {
    const reads: string[][] = [];
    const source: HelloIdSource = {
      listUsers: async () => HID_USERS,
      listGroups: async () => [group('g1', 'Sales Resource Owners'), group('f1', 'Filler')],
      readMembers: async (guids) => {
        reads.push([...guids]);
        return new Map(guids.map((g) => [g, ['u-anna']] as const));
      },
      lookupUsers: async (guids) => new Map(guids.map((g) => [g, null] as const)),
    };
    const result = await readAndDiff(exchangeSource(Promise.resolve([mailbox('Sales', 'anna@contoso.com')])), source, OPTS);
    expect(reads).toEqual([['g1']]);
    expect(result.counts.ownerGroupsRead).toBe(1);
    expect(result.diff.groups).toHaveLength(1);
  });

  it('refuses zero mailboxes before reading any members', async () => {
    const { source, reads } = pagedHelloId([[group('g1', 'Sales Resource Owners')]], [Promise.resolve()], {});
    await expect(readAndDiff(exchangeSource(Promise.resolve([])), source, OPTS)).rejects.toThrow(/zero shared mailboxes/);
    await tick();
    // A guess may have started (no filter), but nothing after the refusal.
    expect(reads.flat().length).toBeLessThanOrEqual(1);
  });
});
