/**
 * exchangeChangesSince: the unified diff a reviewer reads beside the plan. It compares
 * lines as arrays to spare memory at scale; its text must stay exactly what the diff
 * library's createTwoFilesPatch (diffLines underneath) prints, which is the oracle here:
 * the library, not our code.
 */
import { createTwoFilesPatch } from 'diff';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exchangeChangesSince, MAX_EXCHANGE_CHANGE_LINES } from '../../src/state/desired-state-file.js';

/** The library's own patch, headers trimmed to the two file lines as the plan shows them. */
function oracle(before: string, after: string): string {
  return createTwoFilesPatch('desired-state.yaml (previous)', 'desired-state.yaml (now)', before, after, undefined, undefined, { context: 2 })
    .split('\n')
    .filter((l) => !l.startsWith('Index:') && !/^=+$/.test(l))
    .join('\n')
    .trimEnd();
}

describe('exchangeChangesSince', () => {
  it('is undefined without a previous file or without a change', () => {
    expect(exchangeChangesSince(undefined, 'a\n')).toBeUndefined();
    expect(exchangeChangesSince('a\nb\n', 'a\nb\n')).toBeUndefined();
  });

  it('prints a hand-checked patch: one holder added, two lines of context', () => {
    const before = ['mailboxes:', '  - guid: 1', '    holders:', '      - upn: anna@contoso.com', '  - guid: 2', '    holders: []', ''].join('\n');
    const after = ['mailboxes:', '  - guid: 1', '    holders:', '      - upn: anna@contoso.com', '      - upn: bram@contoso.com', '  - guid: 2', '    holders: []', ''].join('\n');
    expect(exchangeChangesSince(before, after)).toBe(
      [
        '--- desired-state.yaml (previous)',
        '+++ desired-state.yaml (now)',
        '@@ -3,4 +3,5 @@',
        '     holders:',
        '       - upn: anna@contoso.com',
        '+      - upn: bram@contoso.com',
        '   - guid: 2',
        '     holders: []',
      ].join('\n'),
    );
  });

  it('marks a last line without a newline as the library does', () => {
    expect(exchangeChangesSince('a\nb', 'a\nb\n')).toBe(oracle('a\nb', 'a\nb\n'));
    expect(exchangeChangesSince('a\nb\n', 'a\nc')).toBe(oracle('a\nb\n', 'a\nc'));
    expect(exchangeChangesSince('', 'a\n')).toBe(oracle('', 'a\n'));
  });

  it('prints exactly what createTwoFilesPatch prints, for random edits of random files', () => {
    const line = fc.constantFrom('a', 'b', 'c', '  - upn: x', '', 'holders:', 'd\r');
    const text = fc.tuple(fc.array(line, { maxLength: 40 }), fc.boolean()).map(([lines, eol]) => lines.join('\n') + (eol && lines.length > 0 ? '\n' : ''));
    fc.assert(
      fc.property(text, text, (before, after) => {
        const got = exchangeChangesSince(before, after);
        if (before === after) expect(got).toBeUndefined();
        else expect(got).toBe(oracle(before, after));
      }),
      { numRuns: 500 },
    );
  });

  it('gives a note instead of a patch past MAX_EXCHANGE_CHANGE_LINES edits, without diffing for minutes', () => {
    const before = Array.from({ length: 50_000 }, (_, i) => `  - ownerGroup: Old ${i}`).join('\n') + '\n';
    const after = before.replaceAll('Old', 'New');
    const note = exchangeChangesSince(before, after);
    expect(note).toMatch(/^# More than 2,000 lines of desired-state.yaml changed/);
    // Just under the cap the patch is still printed.
    const few = before.replace('Old 7\n', 'Gone 7\n');
    expect(exchangeChangesSince(before, few)).toContain('+  - ownerGroup: Gone 7');
    expect(MAX_EXCHANGE_CHANGE_LINES).toBe(2_000);
  });
});
