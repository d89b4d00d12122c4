/**
 * Entra ID app-only tokens through msal-node and our HTTP client, against the
 * emulator: client secret, certificate (PEM and PFX), wrong credentials, caching and
 * renewal after a 401 from Exchange.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator, TenantFixture } from '../../src/emulator/index.js';
import { loadFixture } from '../../src/emulator/index.js';
import { EntraAuth } from '../../src/exchange/index.js';
import { closeSharedDispatchers } from '../../src/http/index.js';
import { auth, configFor, DEMO_FIXTURE, exchangeClient, logged, startEmulator } from './helpers.js';

const CERT_APP = '00000000-0000-4000-8000-0000000000c1';
let emu: Emulator;
let dir: string;
let certPem: string;
let keyPem: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ownersync-auth-'));
  const pems = await generate([{ name: 'commonName', value: 'ownersync-app' }], { keySize: 2048, algorithm: 'sha256' });
  certPem = pems.cert;
  keyPem = pems.private;
  writeFileSync(join(dir, 'app.pem'), `${certPem}\n${keyPem}`);
  const fixture: TenantFixture = loadFixture(DEMO_FIXTURE);
  fixture.apps.push({ clientId: CERT_APP, displayName: 'ownersync (certificate)', certificate: certPem });
  emu = await startEmulator({ fixture });
});

afterAll(async () => {
  await emu.stop();
  await closeSharedDispatchers();
  rmSync(dir, { recursive: true, force: true });
});

const tokenRequests = (): number => logged(emu, { path: '/oauth2/v2.0/token' }).length;

describe('client secret', () => {
  it('gets a token, caches it, and renews on demand', async () => {
    const a = auth(emu, configFor(emu));
    const before = tokenRequests();
    const t1 = await a.getToken();
    expect(t1.split('.')).toHaveLength(3);
    const [t2, t3] = await Promise.all([a.getToken(), a.getToken()]);
    expect(t2).toBe(t1);
    expect(t3).toBe(t1);
    expect(tokenRequests() - before).toBe(1);
    const t4 = await a.getToken(true);
    expect(t4).not.toBe(t1);
    expect(tokenRequests() - before).toBe(2);
  });

  it('names Entra ID and the tenant, never the secret, for a wrong secret', async () => {
    const cfg = configFor(emu, { clientSecret: 'definitely-the-wrong-secret' });
    const err = (await auth(emu, cfg)
      .getToken()
      .catch((e: unknown) => e)) as Error;
    expect(err.message).toBe(`Entra ID refused the client credentials for tenant ${cfg.exchange.tenantId} (AADSTS7000215: Invalid client secret provided)`);
    expect(err.message).not.toContain('definitely-the-wrong-secret');
    expect((err as { exitCode?: number }).exitCode).toBe(1);
  });

  it('names the tenant when it does not exist', async () => {
    const cfg = configFor(emu, { tenantId: '11111111-2222-4333-8444-555555555555' });
    const err = (await auth(emu, cfg)
      .getToken()
      .catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/^Entra ID .*11111111-2222-4333-8444-555555555555/);
  });

  it('names an unknown app', async () => {
    const cfg = configFor(emu, { clientId: '99999999-9999-4999-8999-999999999999' });
    const err = (await auth(emu, cfg)
      .getToken()
      .catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/^Entra ID refused the client credentials for tenant \S+ \(AADSTS700016: Application with identifier '99999999-/);
  });
});

describe('certificate', () => {
  it('gets a token with a PEM holding certificate and key', async () => {
    const cfg = configFor(emu, { clientId: CERT_APP, clientSecret: undefined, certificate: { path: join(dir, 'app.pem') } });
    delete cfg.exchange.clientSecret;
    const a = auth(emu, cfg);
    const token = await a.getToken();
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { appid: string; appidacr: string; aud: string };
    expect(claims).toMatchObject({ appid: CERT_APP, appidacr: '2', aud: 'https://outlook.office365.com' });
    // And Exchange accepts it.
    const { client } = exchangeClient(emu, cfg, { auth: a });
    expect((await client.listMailboxes()).length).toBe(20);
  });

  const openssl = spawnSync('openssl', ['version']).status === 0;
  it.skipIf(!openssl)('gets a token with a password-protected PFX', async () => {
    writeFileSync(join(dir, 'cert.pem'), certPem);
    writeFileSync(join(dir, 'key.pem'), keyPem);
    const r = spawnSync('openssl', ['pkcs12', '-export', '-in', join(dir, 'cert.pem'), '-inkey', join(dir, 'key.pem'), '-out', join(dir, 'app.pfx'), '-passout', 'pass:pfx-Pa55word']);
    expect(r.status).toBe(0);
    const cfg = configFor(emu, { clientId: CERT_APP, certificate: { path: join(dir, 'app.pfx'), password: 'pfx-Pa55word' } });
    delete cfg.exchange.clientSecret;
    expect((await auth(emu, cfg).getToken()).split('.')).toHaveLength(3);
  });

  it('is refused with a certificate the app does not know', async () => {
    const other = await generate([{ name: 'commonName', value: 'stranger' }], { keySize: 2048, algorithm: 'sha256' });
    writeFileSync(join(dir, 'other.pem'), `${other.cert}\n${other.private}`);
    const cfg = configFor(emu, { clientId: CERT_APP, certificate: { path: join(dir, 'other.pem') } });
    delete cfg.exchange.clientSecret;
    const err = (await auth(emu, cfg)
      .getToken()
      .catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/^Entra ID refused the client credentials for tenant \S+ \(AADSTS700027: /);
  });
});

describe('renewal', () => {
  it('renews the token once when Exchange answers 401, then carries on', async () => {
    const cfg = configFor(emu);
    const { client, auth: a } = exchangeClient(emu, cfg);
    await a.getToken();
    emu.expireTokens();
    const before = tokenRequests();
    expect((await client.listMailboxes()).length).toBe(20);
    expect(tokenRequests() - before).toBe(1);
  });

  it('gives up with a clear message when a fresh token is refused too', async () => {
    const cfg = configFor(emu);
    // A provider whose "fresh" tokens are for another tenant: Exchange keeps saying 401.
    const stale = { getToken: async () => emu.mintToken({ tenantId: '11111111-2222-4333-8444-555555555555' }) };
    const { client } = exchangeClient(emu, cfg, { auth: stale as unknown as EntraAuth });
    await expect(client.listMailboxes()).rejects.toThrow(/\(Get-Mailbox\) failed: 401 Unauthorized even with a fresh token: .*Exchange\.ManageAsApp/);
  });
});

describe('validate --online checks', () => {
  it('reports token, Exchange and HelloID as reachable, or says what failed', async () => {
    const { checkExchangeOnline } = await import('../../src/exchange/index.js');
    const { checkHelloIdOnline } = await import('../../src/helloid/index.js');
    const cfg = configFor(emu);
    const ok = [...(await checkExchangeOnline(cfg, { caPem: emu.caPem })), ...(await checkHelloIdOnline(cfg, { caPem: emu.caPem }))];
    expect(ok.map((r) => [r.service, r.ok])).toEqual([
      ['Entra ID token', true],
      ['Exchange Online', true],
      ['HelloID', true],
    ]);
    const bad = configFor(emu, { clientSecret: 'nope-nope-nope' });
    const badHelloId = { ...cfg, helloid: { ...cfg.helloid, apiKey: 'wrong-key' } };
    const failed = [...(await checkExchangeOnline(bad, { caPem: emu.caPem })), ...(await checkHelloIdOnline(badHelloId, { caPem: emu.caPem }))];
    expect(failed.map((r) => r.ok)).toEqual([false, false, false]);
    expect(failed[0]?.detail).toMatch(/AADSTS7000215/);
    expect(failed[2]?.detail).toBe(`HelloID rejected the API key for ${emu.url} (401)`);
    expect(JSON.stringify(failed)).not.toContain('nope-nope-nope');
  });
});
