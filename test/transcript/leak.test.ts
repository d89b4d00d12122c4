/**
 * Safe to share by construction: a transcript recorded with the built CLI
 * (`plan --record`, `validate --online --record`) against a demo tenant whose real
 * credentials are the secret-hygiene sentinels (test/hardening/secrets-common.ts) and
 * which holds sentinel personal data (a user, a mailbox, a DOMAIN\name trustee, a SID)
 * contains none of them in any encoding that suite checks (plain, base64, URL- and
 * form-encoded, Basic header, the bare marker, bearer tokens), passes
 * `transcript check -c` (exit 0), and `--record-raw` is loud about what it is.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFixture, type TenantFixture } from '../../src/emulator/index.js';
import { checkTranscript } from '../../src/transcript/check.js';
import { parseTranscript } from '../../src/transcript/format.js';
import { DEMO_FIXTURE, setup, type Env } from '../e2e/harness.js';
import { findLeaks, S } from '../hardening/secrets-common.js';

/** Sentinel personal data: greppable words that no pseudonym can produce by accident. */
const P = {
  first: 'Qzsentinelfirst',
  last: 'Vxsentinellast',
  upn: 'qzsentinelfirst.vxsentinellast@sentinelcorp.example',
  mailbox: 'Qzsentinelbox',
  mailboxSmtp: 'qzsentinelbox@sentinelcorp.example',
  trustee: 'SENTINELDOM\\qzsentineltrustee',
  sid: 'S-1-5-21-1111111111-2222222222-3333333333-4444',
};
const PERSONAL = ['Qzsentinel', 'Vxsentinel', 'sentinelcorp', 'SENTINELDOM', '1111111111-2222222222-3333333333'];

function sentinelFixture(): TenantFixture {
  const f: TenantFixture = structuredClone(loadFixture(DEMO_FIXTURE));
  f.apps[0]!.secret = S.clientSecret;
  delete f.apps[0]!.secrets;
  f.helloid!.apiKeys = [{ key: S.helloidKey, secret: S.helloidSecret }];
  const ex = f.exchange as unknown as { users: unknown[]; mailboxes: unknown[] };
  ex.users.push({ upn: P.upn, displayName: `${P.first} ${P.last}` });
  ex.mailboxes.push({
    displayName: P.mailbox,
    primarySmtpAddress: P.mailboxSmtp,
    permissions: [
      { user: P.upn, accessRights: ['FullAccess'] },
      { user: P.trustee, accessRights: ['FullAccess'] },
      { user: P.sid, accessRights: ['FullAccess'] },
    ],
  });
  const h = f.helloid as unknown as { users: unknown[]; groups: unknown[] };
  h.users.push({ userName: P.upn, firstName: P.first, lastName: P.last, source: 'AzureAD' });
  h.groups.push({ name: `${P.mailbox} Resource Owners`, members: [] });
  return f;
}

let e: Env;
beforeAll(async () => {
  e = await setup({ fixture: sentinelFixture(), sync: { removeMembers: true } });
  e.env.OWNERSYNC_SIGNING_KEY = S.signingKey;
});
afterAll(async () => e?.stop());

describe('transcripts leak nothing', () => {
  it('plan --record: no sentinel secret or personal datum, in any encoding; check -c says safe', async () => {
    const r = await e.run(['plan', '--record', 'plan.jsonl', '-q']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const text = e.read('plan.jsonl');
    expect(findLeaks(text)).toEqual({ strict: [], truncated: [] });
    for (const word of PERSONAL) expect(text.toLowerCase()).not.toContain(word.toLowerCase());
    // The real tenant and endpoints are gone too.
    const c = e.emulator.clientSettings();
    for (const id of [c.tenantId, c.clientId, c.organization, `127.0.0.1:${e.emulator.port}`]) expect(text).not.toContain(id);
    // Token endpoint: that it happened and its status, no body.
    const t = parseTranscript(text);
    const entra = t.entries.filter((x) => x.service === 'entra');
    expect(entra.length).toBeGreaterThan(0);
    for (const x of entra) expect(Object.keys(x).sort()).toEqual(['attempt', 'method', 'ms', 'path', 'seq', 'service', 'status', 't']);
    // No request header outside the allow-list.
    for (const x of t.entries) for (const h of Object.keys(x.requestHeaders ?? {})) expect(['content-type', 'accept', 'prefer', 'x-cmdletname', 'x-responseformat']).toContain(h);
    // The sentinel mailbox's owner group is still planned: structure survived.
    expect(t.outcome!.changes.some((ch) => String(ch.groupName).endsWith(' Resource Owners') && ch.action === 'add')).toBe(true);

    const check = await e.run(['transcript', 'check', 'plan.jsonl', '-c', 'ownersync.yaml']);
    expect(check.stdout).toContain('SAFE: plan.jsonl');
    expect(check.code).toBe(0);
    expect(findLeaks(check.stdout + check.stderr)).toEqual({ strict: [], truncated: [] });
  }, 60_000);

  it('validate --online --record: the same guarantees', async () => {
    const r = await e.run(['validate', '--online', '--record', 'validate.jsonl']);
    expect(r.code).toBe(0);
    const text = e.read('validate.jsonl');
    expect(findLeaks(text)).toEqual({ strict: [], truncated: [] });
    const t = parseTranscript(text);
    expect(t.entries.map((x) => x.service).sort()).toEqual(expect.arrayContaining(['entra', 'exchange', 'helloid']));
    expect(checkTranscript(text).safe).toBe(true);
    // Without --online nothing talks to the services: a usage error, no file.
    const usage = await e.run(['validate', '--record', 'offline.jsonl']);
    expect(usage.code).toBe(64);
    expect(usage.stderr).toContain('--record needs --online');
  }, 60_000);

  it('--record-raw warns on stderr, says NOT SAFE in the file, still holds no credential, and fails the check', async () => {
    const r = await e.run(['plan', '--record', 'raw.jsonl', '--record-raw', '-q']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/WARNING: --record-raw: .*NOT safe to share/);
    const text = e.read('raw.jsonl');
    expect(text.split('\n')[0]).toContain('NOT SAFE TO SHARE');
    expect(text).toContain(P.upn); // raw means raw
    expect(findLeaks(text)).toEqual({ strict: [], truncated: [] });
    const check = await e.run(['transcript', 'check', 'raw.jsonl', '-c', 'ownersync.yaml']);
    expect(check.code).toBe(1);
    expect(check.stdout).toContain('UNSAFE: raw.jsonl');
    expect(check.stdout).toMatch(/raw: recorded with --record-raw/);
    expect(check.stdout).toMatch(/address outside pseudonym\.invalid/);
    expect(check.stdout).toMatch(/the real exchange\.tenantId/);
    expect(findLeaks(check.stdout + check.stderr)).toEqual({ strict: [], truncated: [] });
  }, 60_000);

  it('check: a planted secret, token, real address or GUID makes the file unsafe, named by line and place but not printed', async () => {
    const text = e.read('plan.jsonl');
    const lines = text.split('\n');
    const planted = [
      lines[0],
      JSON.stringify({ seq: 1, t: 0, ms: 1, service: 'helloid', method: 'GET', path: `/api/v1/users?x=${encodeURIComponent(S.helloidSecret)}`, attempt: 1, status: 200 }),
      JSON.stringify({ seq: 2, t: 0, ms: 1, service: 'helloid', method: 'GET', path: '/api/v1/users', attempt: 1, status: 200, responseHeaders: { 'x-echo': 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhYmMifQ.c2ln' } }),
      JSON.stringify({ seq: 3, t: 0, ms: 1, service: 'helloid', method: 'GET', path: '/api/v1/users', attempt: 1, status: 200, response: [{ userName: 'real.person@contoso.com', userGUID: '3f2504e0-4f89-41d3-9a0c-0305e82c3301' }] }),
      '',
    ].join('\n');
    e.read('plan.jsonl');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(e.file('planted.jsonl'), planted);
    const check = await e.run(['transcript', 'check', 'planted.jsonl', '-c', 'ownersync.yaml']);
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/line 2, \(anywhere\): secret: the config's helloid\.apiSecret \(URL-encoded\)/);
    expect(check.stdout).toMatch(/line 3, responseHeaders\.x-echo: token: a JWT-shaped value/);
    expect(check.stdout).toMatch(/line 4, response\[0\]\.userName: address/);
    expect(check.stdout).toMatch(/line 4, response\[0\]\.userGUID: guid/);
    expect(findLeaks(check.stdout + check.stderr).strict).toEqual([]);
    expect(readFileSync(e.file('planted.jsonl'), 'utf8')).toContain(encodeURIComponent(S.helloidSecret));
  }, 60_000);
});
