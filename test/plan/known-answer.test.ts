/**
 * Known-answer tests: the plan digest and HMAC signature of a fixed plan as literal hex,
 * and canonical JSON against the examples of RFC 8785 (JSON Canonicalization Scheme).
 * None of the expected values is computed by src/: if one of these tests fails, either
 * the format changed (and every approved plan with it) or the code is wrong.
 */
import { describe, expect, it } from 'vitest';
import { canonicalJson, CanonicalJsonError } from '../../src/canonical-json.js';
import { computeDigest } from '../../src/plan/digest.js';
import { sign, verifySignature } from '../../src/plan/signature.js';
import type { PlanFile } from '../../src/plan/types.js';

const G1 = 'aaaaaaaa-0000-4000-8000-000000000001';
const U1 = 'bbbbbbbb-0000-4000-8000-000000000001';
const U2 = 'bbbbbbbb-0000-4000-8000-000000000002';

/** A small but complete plan (non-ASCII in a name, so UTF-8 encoding is covered). */
const PLAN: PlanFile = {
  formatVersion: 1,
  tool: { name: 'ownersync', version: '1.2.3' },
  createdAt: '2025-03-01T10:00:00.000Z',
  expiresAt: '2025-03-04T10:00:00.000Z',
  configDigest: `sha256:${'1'.repeat(64)}`,
  target: { helloidBaseUrl: 'https://contoso.helloid.com', exchangeTenantId: 'cccccccc-1111-4111-8111-111111111111' },
  summary: { add: 1, remove: 1, kept: 0 },
  groups: [{ groupGuid: G1, groupName: 'Café Resource Owners', mailbox: 'cafe@contoso.com', observedMembers: [U2], plannedMembers: [U1] }],
  changes: [
    { action: 'add', groupGuid: G1, groupName: 'Café Resource Owners', userGuid: U1, userName: 'anna@contoso.com', mailbox: 'cafe@contoso.com', reason: 'holds FullAccess on cafe@contoso.com (direct)' },
    { action: 'remove', groupGuid: G1, groupName: 'Café Resource Owners', userGuid: U2, userName: 'bob@contoso.com', mailbox: 'cafe@contoso.com', reason: 'no longer holds FullAccess on cafe@contoso.com' },
  ],
  kept: [],
  warnings: [{ code: 'no-helloid-user', mailbox: 'cafe@contoso.com', subject: 'x.y@contoso.com', message: 'x.y@contoso.com holds FullAccess on cafe@contoso.com but has no HelloID user' }],
  overrides: [],
  // Not part of the body: none of these may change the digest.
  digest: `sha256:${'0'.repeat(64)}`,
  signature: `hmac-sha256:${'f'.repeat(64)}`,
  approvals: [{ by: 'alice', at: '2025-03-01T11:00:00.000Z', digest: `sha256:${'0'.repeat(64)}` }],
};

/**
 * The canonical JSON of PLAN's body, written by hand from the rules (keys sorted by
 * UTF-16 code unit at every level, no whitespace), not produced by canonicalJson.
 */
const CANONICAL =
  '{"changes":[' +
  '{"action":"add","groupGuid":"aaaaaaaa-0000-4000-8000-000000000001","groupName":"Café Resource Owners","mailbox":"cafe@contoso.com","reason":"holds FullAccess on cafe@contoso.com (direct)","userGuid":"bbbbbbbb-0000-4000-8000-000000000001","userName":"anna@contoso.com"},' +
  '{"action":"remove","groupGuid":"aaaaaaaa-0000-4000-8000-000000000001","groupName":"Café Resource Owners","mailbox":"cafe@contoso.com","reason":"no longer holds FullAccess on cafe@contoso.com","userGuid":"bbbbbbbb-0000-4000-8000-000000000002","userName":"bob@contoso.com"}],' +
  '"configDigest":"sha256:1111111111111111111111111111111111111111111111111111111111111111",' +
  '"createdAt":"2025-03-01T10:00:00.000Z","expiresAt":"2025-03-04T10:00:00.000Z","formatVersion":1,' +
  '"groups":[{"groupGuid":"aaaaaaaa-0000-4000-8000-000000000001","groupName":"Café Resource Owners","mailbox":"cafe@contoso.com","observedMembers":["bbbbbbbb-0000-4000-8000-000000000002"],"plannedMembers":["bbbbbbbb-0000-4000-8000-000000000001"]}],' +
  '"kept":[],"overrides":[],"summary":{"add":1,"kept":0,"remove":1},' +
  '"target":{"exchangeTenantId":"cccccccc-1111-4111-8111-111111111111","helloidBaseUrl":"https://contoso.helloid.com"},' +
  '"tool":{"name":"ownersync","version":"1.2.3"},' +
  '"warnings":[{"code":"no-helloid-user","mailbox":"cafe@contoso.com","message":"x.y@contoso.com holds FullAccess on cafe@contoso.com but has no HelloID user","subject":"x.y@contoso.com"}]}';

/**
 * How the vectors were made, outside this code base: CANONICAL was saved as UTF-8
 * without a trailing newline (canonical.json) and hashed with coreutils and OpenSSL 3.0:
 *   sha256sum canonical.json
 *   printf '%s' "sha256:<that hex>" | openssl dgst -sha256 -hmac 'known-answer-key-not-secret'
 * and cross-checked with Python's hashlib/hmac. The HMAC is over the digest string
 * ("sha256:<hex>", UTF-8), as src/plan/signature.ts documents.
 */
const DIGEST = 'sha256:b2e4de4d9599876f9f98581c633ef5b1042a8ea02874436be932fa45e0f470b2';
const KEY = 'known-answer-key-not-secret';
const SIGNATURE = 'hmac-sha256:67f8d68dce1ffb61f210a980c2b412c9886d8c8a56960c5834649bcda0e3d1d7';

describe('plan digest and signature: known answers', () => {
  it('the body serialises to the hand-written canonical JSON', () => {
    const { digest: _d, signature: _s, approvals: _a, ...body } = PLAN;
    expect(canonicalJson(body)).toBe(CANONICAL);
  });

  it('the digest of the fixed plan is the literal sha256', () => {
    expect(computeDigest(PLAN)).toBe(DIGEST);
  });

  it('the HMAC signature with the fixed key is the literal hmac-sha256', () => {
    expect(sign({ digest: DIGEST }, KEY)).toBe(SIGNATURE);
    expect(verifySignature({ ...PLAN, digest: DIGEST, signature: SIGNATURE }, KEY)).toBe(true);
  });
});

/**
 * RFC 8785 examples. Sources: the RFC's §3.2.2 / §3.2.4 sample object ("numbers",
 * "string", "literals"), §3.2.3 property-sorting sample, and Appendix B number table;
 * the same vectors are in the RFC author's repository cyberphone/json-canonicalization
 * (testdata/input|output/*.json, testdata/numgen.js, java/miscellaneous/src/SortingSchemes.java)
 * and in several independent JCS test suites, against which the table below was checked.
 * JSON text input goes through JSON.parse first: canonicalJson takes values, not text.
 */
describe('canonical JSON = RFC 8785 (JCS) on the RFC examples', () => {
  it('§3.2.2/§3.2.4 sample: numbers, string escapes and literals', () => {
    const input = String.raw`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }`;
    expect(canonicalJson(JSON.parse(input))).toBe(String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`);
    // §3.2.4: the result is UTF-8: '€' is e2 82 ac.
    expect(Buffer.from(canonicalJson(JSON.parse(input)), 'utf8').toString('hex')).toContain('3a22e282ac24'); // :"€$
  });

  it('§3.2.3 sample: properties sorted by UTF-16 code units', () => {
    const input = String.raw`{
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis"
    }`;
    expect(canonicalJson(JSON.parse(input))).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  // Appendix B: IEEE 754 bit patterns (hex) and their only JCS spelling.
  const APPENDIX_B: Array<[string, string]> = [
    ['0000000000000000', '0'],
    ['8000000000000000', '0'], // minus zero
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'], // round to even
  ];
  const fromBits = (hex: string): number => Buffer.from(hex, 'hex').readDoubleBE(0);

  it.each(APPENDIX_B)('Appendix B: %s → %s', (hex, spelling) => {
    expect(canonicalJson(fromBits(hex))).toBe(spelling);
  });

  it('Appendix B: NaN and Infinity (7fffffffffffffff, 7ff0000000000000) are errors', () => {
    expect(() => canonicalJson(fromBits('7fffffffffffffff'))).toThrow(CanonicalJsonError);
    expect(() => canonicalJson(fromBits('7ff0000000000000'))).toThrow(CanonicalJsonError);
  });

  // cyberphone/json-canonicalization testdata (input → output), the RFC author's vectors.
  it.each([
    ['arrays', '[56,{"d":true,"10":null,"1":[]}]', '[56,{"1":[],"10":null,"d":true}]'],
    ['structures', '{"1":{"f":{"f":"hi","F":5},"\\n":56.0},"10":{},"":"empty","a":{},"111":[{"e":"yes","E":"no"}],"A":{}}', '{"":"empty","1":{"\\n":56,"f":{"F":5,"f":"hi"}},"10":{},"111":[{"E":"no","e":"yes"}],"A":{},"a":{}}'],
    ['french (no locale)', '{"peach":"This sorting order","péché":"is wrong according to French","pêche":"but canonicalization MUST","sin":"ignore locale"}', '{"peach":"This sorting order","péché":"is wrong according to French","pêche":"but canonicalization MUST","sin":"ignore locale"}'],
    ['unicode (no normalisation)', '{"Unnormalized Unicode":"A\\u030a"}', '{"Unnormalized Unicode":"A\u030a"}'],
    ['weird', '{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\u000a":"Newline","1":"One","\\u0080":"Control\\u007f","\\ud83d\\ude02":"Smiley","\\u00f6":"Latin Small Letter O With Diaeresis","\\ufb33":"Hebrew Letter Dalet With Dagesh","</script>":"Browser Challenge"}', '{"\\n":"Newline","\\r":"Carriage Return","1":"One","</script>":"Browser Challenge","\u0080":"Control\u007f","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude02":"Smiley","\ufb33":"Hebrew Letter Dalet With Dagesh"}'],
  ])('testdata %s', (_name, input, output) => {
    expect(canonicalJson(JSON.parse(input))).toBe(output);
  });

  /**
   * DEVIATION from RFC 8785, documented, not fixed: JCS input must be I-JSON (RFC 7493
   * §2.1), so a string with a lone surrogate must be rejected. canonicalJson uses
   * JSON.stringify, which (since ES2019) writes it as an escape instead. Changing this
   * would change the digest of any plan containing such a string, so it stays as it is;
   * plan strings come from Exchange/HelloID names, which are well-formed UTF-16.
   */
  it('a lone surrogate is escaped (\\ud800), where RFC 8785 would reject it', () => {
    expect(canonicalJson('a\ud800b')).toBe('"a\\ud800b"');
    expect(canonicalJson({ '\udc00': 1 })).toBe('{"\\udc00":1}');
  });
});
