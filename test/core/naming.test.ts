import { describe, expect, it } from 'vitest';
import {
  fitsOwnerGroupPattern,
  buildOwnerGroupIndex,
  foldDiacritics,
  isLocalSource,
  matchOwnerGroup,
  normaliseSource,
  ownerGroupName,
  sameSource,
  type HelloIdGroup,
} from '../../src/core/index.js';
import { hgroup } from './fixtures.js';

describe('ownerGroupName', () => {
  it.each([
    ['', ' Resource Owners', 'Sales', 'Sales Resource Owners'],
    ['RO-', '', 'Sales', 'RO-Sales'],
    ['[', '] owners', 'Café Team', '[Café Team] owners'],
  ])('prefix %j suffix %j name %j → %j', (groupPrefix, groupSuffix, name, expected) => {
    expect(ownerGroupName(name, { groupPrefix, groupSuffix })).toBe(expected);
  });
});

describe('foldDiacritics', () => {
  it.each([
    ['Café', 'Cafe'],
    ['Ångström Über Ñandú', 'Angstrom Uber Nandu'],
    ['Cafe\u0301', 'Cafe'], // already decomposed
    ['Ærø', 'Ærø'], // letters, not combining marks
    ['plain', 'plain'],
  ])('%j → %j', (input, expected) => {
    expect(foldDiacritics(input)).toBe(expected);
  });
});

describe('group sources', () => {
  it.each([
    [null, 'local', true],
    ['', 'local', true],
    ['  ', 'local', true],
    ['Local', 'local', true],
    ['LOCAL', 'local', true],
    ['AzureAD', 'azuread', false],
  ])('%j normalises to %j (local: %s)', (src, norm, local) => {
    expect(normaliseSource(src)).toBe(norm);
    expect(isLocalSource(src)).toBe(local);
  });
  it('compares case-insensitively with null/empty meaning Local', () => {
    expect(sameSource(null, 'local')).toBe(true);
    expect(sameSource('', 'Local')).toBe(true);
    expect(sameSource('azuread', 'AzureAD')).toBe(true);
    expect(sameSource('AzureAD', null)).toBe(false);
  });
});

describe('matchOwnerGroup', () => {
  const local = (name: string, guid?: string, source: string | null = 'Local'): HelloIdGroup =>
    hgroup(name, [], { source, ...(guid ? { groupGuid: guid } : {}) });

  type Case = { name: string; lookFor: string; groups: HelloIdGroup[]; source?: string; expect: 'none' | 'ambiguous' | string };
  const cases: Case[] = [
    { name: 'exact name', lookFor: 'Sales Resource Owners', groups: [local('Sales Resource Owners', 'g1')], expect: 'g1' },
    { name: 'case-insensitive', lookFor: 'SALES resource owners', groups: [local('Sales Resource Owners', 'g1')], expect: 'g1' },
    { name: 'diacritics fallback (Café → Cafe)', lookFor: 'Café Team Resource Owners', groups: [local('Cafe Team Resource Owners', 'g1')], expect: 'g1' },
    { name: 'fallback works the other way round too', lookFor: 'Cafe Team Resource Owners', groups: [local('Café Team Resource Owners', 'g1')], expect: 'g1' },
    {
      name: 'exact match wins over a folded one',
      lookFor: 'Café Team Resource Owners',
      groups: [local('Cafe Team Resource Owners', 'folded'), local('Café Team Resource Owners', 'exact')],
      expect: 'exact',
    },
    { name: 'precomposed and decomposed é are the same name', lookFor: 'Cafe\u0301 X', groups: [local('Caf\u00e9 X', 'g1'), local('Cafe X', 'g2')], expect: 'g1' },
    { name: 'two exact candidates are ambiguous', lookFor: 'Sales', groups: [local('Sales', 'g1'), local('SALES', 'g2')], expect: 'ambiguous' },
    { name: 'two folded candidates are ambiguous', lookFor: 'Café', groups: [local('Cafe', 'g1'), local('CAFE', 'g2')], expect: 'ambiguous' },
    { name: 'the same group listed twice is not ambiguous', lookFor: 'Sales', groups: [local('Sales', 'G1'), local('Sales', 'g1')], expect: 'g1' },
    { name: 'missing', lookFor: 'Sales', groups: [local('Marketing', 'g1')], expect: 'none' },
    { name: 'groups of another source are ignored', lookFor: 'Sales', groups: [local('Sales', 'g1', 'AzureAD')], expect: 'none' },
    { name: 'another source does not make it ambiguous', lookFor: 'Sales', groups: [local('Sales', 'g1', 'AzureAD'), local('Sales', 'g2')], expect: 'g2' },
    { name: 'null source means Local', lookFor: 'Sales', groups: [local('Sales', 'g1', null)], expect: 'g1' },
    { name: 'empty source means Local', lookFor: 'Sales', groups: [local('Sales', 'g1', '')], expect: 'g1' },
    { name: 'configured source, case-insensitive', lookFor: 'Sales', groups: [local('Sales', 'g1', 'azuread'), local('Sales', 'g2')], source: 'AzureAD', expect: 'g1' },
    { name: 'no partial matches', lookFor: 'Sales', groups: [local('Sales Team', 'g1'), local('Sale', 'g2')], expect: 'none' },
  ];

  it.each(cases)('$name', (c) => {
    const scope = { groupSource: c.source ?? 'Local' };
    for (const r of [matchOwnerGroup(c.lookFor, c.groups, scope), matchOwnerGroup(c.lookFor, buildOwnerGroupIndex(c.groups, scope), scope)]) {
      if (c.expect === 'none') expect(r).toEqual({ kind: 'none' });
      else if (c.expect === 'ambiguous') expect(r.kind).toBe('ambiguous');
      else {
        expect(r.kind).toBe('match');
        if (r.kind === 'match') expect(r.group.groupGuid.toLowerCase()).toBe(c.expect);
      }
    }
  });

  it('lists ambiguous candidates sorted by name then guid, whatever the input order', () => {
    const groups = [local('SALES', 'b'), local('Sales', 'a'), local('sales', 'c')];
    const r1 = matchOwnerGroup('sales', groups, { groupSource: 'Local' });
    const r2 = matchOwnerGroup('sales', [...groups].reverse(), { groupSource: 'Local' });
    expect(r1).toEqual(r2);
    expect(r1.kind === 'ambiguous' && r1.candidates.map((x) => x.groupGuid)).toEqual(['a', 'b', 'c']);
  });

  it('refuses an index built for another source', () => {
    const idx = buildOwnerGroupIndex([local('Sales', 'g1')], { groupSource: 'AzureAD' });
    expect(() => matchOwnerGroup('Sales', idx, { groupSource: 'Local' })).toThrow(/built for source/);
  });

  it('accepts the minimal {groupGuid, name, source} shape', () => {
    const r = matchOwnerGroup('x', [{ groupGuid: 'g', name: 'X', source: null }], { groupSource: 'local' });
    expect(r).toEqual({ kind: 'match', group: { groupGuid: 'g', name: 'X', source: null } });
  });
});

describe('fitsOwnerGroupPattern (apply refuses a planned group that no longer fits; plan guesses early reads by it)', () => {
  const rule = { groupPrefix: 'Équipe ', groupSuffix: ' Owners', groupSource: 'Local' };

  it('compares names as the owner-group match does: case-insensitively, else without diacritics', () => {
    expect(fitsOwnerGroupPattern('Équipe Sales Owners', 'Local', rule)).toBe(true);
    expect(fitsOwnerGroupPattern('équipe sales OWNERS', null, rule)).toBe(true);
    // Matched on the pass without diacritics by plan, so it must fit at apply too.
    expect(fitsOwnerGroupPattern('Equipe Sales Owners', '', rule)).toBe(true);
  });

  it('needs something between prefix and suffix, the prefix, the suffix and the source', () => {
    expect(fitsOwnerGroupPattern('Équipe  Owners', 'Local', { ...rule, groupPrefix: 'Équipe  ', groupSuffix: 'Owners' })).toBe(false);
    expect(fitsOwnerGroupPattern('Sales Owners', 'Local', rule)).toBe(false);
    expect(fitsOwnerGroupPattern('Équipe Sales', 'Local', rule)).toBe(false);
    expect(fitsOwnerGroupPattern('Équipe Sales Owners', 'AzureAD', rule)).toBe(false);
  });
});
