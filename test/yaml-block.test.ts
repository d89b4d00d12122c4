/**
 * The incremental YAML writer prints what the yaml library prints (the library is the
 * independent oracle here: plan.yaml and desired-state.yaml used to be its output, and
 * their bytes must not change), for the shapes ownersync writes and for awkward strings.
 */
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { BlockYamlWriter, isPlainSafe } from '../src/yaml-block.js';

const AWKWARD = [
  '',
  ' ',
  'true',
  'True',
  'FALSE',
  'null',
  'Null',
  '~',
  'yes',
  'no',
  'on',
  'off',
  'y',
  '123',
  '-1',
  '1e5',
  '0x1F',
  '0o17',
  '.5',
  '.inf',
  '.NaN',
  '2024-01-01',
  'a: b',
  'a:b',
  'x #y',
  'x#y',
  '# x',
  '- x',
  '-x',
  '? x',
  '@x',
  '`x',
  "O'Brien",
  '"quoted"',
  '%x',
  '*x',
  '&x',
  '!x',
  '|',
  '>',
  '{x}',
  '[x]',
  'x,',
  ', x',
  ' lead',
  'trail ',
  'tab\there',
  'ümlaut Zoë',
  'DOMAIN\\user',
  'a > b > c',
  'holds FullAccess on shared0001@scale.example (via GG-Sales > GG-Sales-Nested)',
  'user00872@scale.example',
  '001ce5a2-45fa-5a23-b8b5-03c170761d1c',
  '12345678-1234-1234-1234-123456789012',
  'sha256:47de4d92914dee4e538a5d978238d10f0496c8cfe601ba435e405f63b64eb4f6',
  'https://127.0.0.1:36239',
  '<DisplayName> Resource Owners',
  'Shared 0000 Resource Owners',
  'x---',
  '---',
  '...',
  'a\u00a0b',
  'emoji 🙂',
  'back\\slash',
  'ctrl\u0007char',
];

function library(value: Record<string, unknown>, options: YAML.ToStringOptions): string {
  return YAML.stringify(value, { ...options, aliasDuplicateObjects: false });
}

function writer(value: Record<string, unknown>, options: YAML.ToStringOptions): string {
  const parts: string[] = [];
  new BlockYamlWriter(options).writeDocument(value, (t) => parts.push(t));
  return parts.join('');
}

describe('BlockYamlWriter', () => {
  const optionSets: YAML.ToStringOptions[] = [{ lineWidth: 0, blockQuote: 'literal' }, { lineWidth: 0, indent: 2 }];

  it.each(optionSets)('prints every awkward string as the library does, as key, value and item (%o)', (options) => {
    const doc: Record<string, unknown> = {
      values: Object.fromEntries(AWKWARD.map((s, i) => [`k${i}`, s])),
      items: AWKWARD,
      keys: Object.fromEntries(AWKWARD.filter((s) => s !== '').map((s) => [s, 1])),
    };
    expect(writer(doc, options)).toBe(library(doc, options));
  });

  it.each(optionSets)('prints nested shapes as the library does (%o)', (options) => {
    const doc: Record<string, unknown> = {
      formatVersion: 1,
      tool: { name: 'ownersync', version: '0.1.0' },
      nothing: null,
      flag: false,
      ratio: 0.25,
      negativeZero: -0,
      zero: 0,
      empty: [],
      emptyMap: {},
      groups: [
        { groupName: 'A Resource Owners', observedMembers: [], plannedMembers: ['u1', 'u2'], nested: { deep: ['x', { y: 1, z: [] }] } },
        { groupName: 'B', observedMembers: ['u3'], plannedMembers: [] },
        {},
        [],
        ['a', ['b', 'c'], { d: 'e', f: { g: [] } }],
        [[['deep']]],
        'plain item',
        7,
        null,
      ],
      skipped: undefined,
      withUndefined: { a: undefined, b: 'kept' },
      warnings: [{ code: 'no-helloid-user', mailbox: 'hr@contoso.com', subject: 'ghost@contoso.com', message: 'ghost@contoso.com has no HelloID user' }],
    };
    expect(writer(doc, options)).toBe(library(doc, options));
  });

  it('leaves an entry holding a string of several lines to the library (block scalar)', () => {
    const options = { lineWidth: 0, blockQuote: 'literal' } as const;
    const doc = { before: 'x', exchangeChanges: '--- a\n+++ b\n@@ -1 +1 @@\n-old\n+new\n\n  indented', after: [{ note: 'one\ntwo' }] };
    expect(writer(doc, options)).toBe(library(doc, options));
  });

  it('takes as plain only what the library prints plain', () => {
    for (const s of AWKWARD) {
      if (isPlainSafe(s)) expect(YAML.stringify(s, { lineWidth: 0 }).trimEnd(), s).toBe(s);
    }
    expect(isPlainSafe('Shared 0000 Resource Owners')).toBe(true);
    expect(isPlainSafe('001ce5a2-45fa-5a23-b8b5-03c170761d1c')).toBe(true);
    expect(isPlainSafe('true')).toBe(false);
    expect(isPlainSafe('a: b')).toBe(false);
  });
});
