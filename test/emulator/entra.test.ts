/**
 * Entra ID contract: OpenID configuration, instance discovery, v2 and v1 token
 * replies, AADSTS errors, certificate client assertions (RS256/x5t and PS256/x5t#S256)
 * and, end to end, @azure/msal-node itself acquiring tokens from the emulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, createPrivateKey, createSign, constants, sign as cryptoSign, X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';
import { ConfidentialClientApplication, type INetworkModule, type NetworkResponse } from '@azure/msal-node';
import { request } from 'undici';
import { start, type Emulator, type TenantFixture } from '../../src/emulator/index.js';
import { Client } from './helpers.js';

const TENANT = '00000000-0000-4000-8000-0000000000e1';
const SECRET_APP = '00000000-0000-4000-8000-0000000000e2';
const CERT_APP = '00000000-0000-4000-8000-0000000000e3';
const SCOPE = 'https://outlook.office365.com/.default';

let emu: Emulator;
let c: Client;
let cert: { cert: string; private: string };
let otherCert: { cert: string; private: string };

function b64url(o: object): string {
  return Buffer.from(JSON.stringify(o)).toString('base64url');
}

function assertion(
  key: string,
  pem: string,
  o: { alg?: 'RS256' | 'PS256'; aud?: string; iss?: string; sub?: string; exp?: number; header?: Record<string, unknown> } = {},
): string {
  const alg = o.alg ?? 'RS256';
  const der = new X509Certificate(pem).raw;
  const header: Record<string, unknown> = { alg, typ: 'JWT' };
  if (alg === 'RS256') header.x5t = createHash('sha1').update(der).digest('base64url');
  else header['x5t#S256'] = createHash('sha256').update(der).digest('base64url');
  Object.assign(header, o.header);
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    aud: o.aud ?? `${emu.url}/${TENANT}/oauth2/v2.0/token`,
    iss: o.iss ?? CERT_APP,
    sub: o.sub ?? CERT_APP,
    exp: o.exp ?? now + 600,
    nbf: now,
    jti: 'x',
  };
  const data = `${b64url(header)}.${b64url(payload)}`;
  const sig =
    alg === 'PS256'
      ? cryptoSign('sha256', Buffer.from(data), { key: createPrivateKey(key), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })
      : createSign('RSA-SHA256').update(data).sign(key);
  return `${data}.${sig.toString('base64url')}`;
}

beforeAll(async () => {
  [cert, otherCert] = await Promise.all([
    generate([{ name: 'commonName', value: 'ownersync test app' }], { keySize: 2048, algorithm: 'sha256' }),
    generate([{ name: 'commonName', value: 'someone else' }], { keySize: 2048, algorithm: 'sha256' }),
  ]);
  const fixture: TenantFixture = {
    tenant: { id: TENANT, organization: 'fabrikam.onmicrosoft.com', displayName: 'Fabrikam' },
    apps: [
      { clientId: SECRET_APP, secret: 'right-secret' },
      { clientId: CERT_APP, certificate: cert.cert },
    ],
    helloid: { apiKeys: [{ key: 'k', secret: 's' }] },
  };
  emu = await start({ fixture });
  c = new Client(emu);
});

afterAll(async () => {
  await c?.close();
  await emu?.stop();
});

const form = (o: Record<string, string>) => ({ form: o });

describe('discovery', () => {
  it('serves an OpenID configuration msal-node accepts, pointing back at the emulator', async () => {
    for (const t of [TENANT, 'fabrikam.onmicrosoft.com']) {
      const r = await c.call('GET', `/${t}/v2.0/.well-known/openid-configuration`);
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({
        issuer: `${emu.url}/${TENANT}/v2.0`,
        token_endpoint: `${emu.url}/${TENANT}/oauth2/v2.0/token`,
        authorization_endpoint: `${emu.url}/${TENANT}/oauth2/v2.0/authorize`,
        jwks_uri: `${emu.url}/${TENANT}/discovery/v2.0/keys`,
      });
      expect(r.json.end_session_endpoint).toContain(emu.url);
    }
    const keys = await c.call('GET', `/${TENANT}/discovery/v2.0/keys`);
    expect(keys.json).toEqual({ keys: [] });
    const bad = await c.call('GET', '/00000000-0000-4000-8000-00000000ffff/v2.0/.well-known/openid-configuration');
    expect(bad.status).toBe(400);
    expect(bad.json.error_codes).toEqual([90002]);
  });

  it('answers instance discovery', async () => {
    const auth = encodeURIComponent(`${emu.url}/${TENANT}/oauth2/v2.0/authorize`);
    const r = await c.call('GET', `/common/discovery/instance?api-version=1.1&authorization_endpoint=${auth}`);
    expect(r.status).toBe(200);
    const host = emu.url.replace('https://', '');
    expect(r.json).toEqual({
      tenant_discovery_endpoint: `${emu.url}/${TENANT}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    });
  });
});

describe('token endpoint', () => {
  it('v2 client secret → the documented reply; the token is JWT-shaped with tenant and app', async () => {
    const r = await c.call('POST', `/${TENANT}/oauth2/v2.0/token`, form({ client_id: SECRET_APP, client_secret: 'right-secret', scope: SCOPE, grant_type: 'client_credentials' }));
    expect(r.status).toBe(200);
    expect(Object.keys(r.json)).toEqual(['token_type', 'expires_in', 'ext_expires_in', 'access_token']);
    expect(r.json.token_type).toBe('Bearer');
    expect(r.json.expires_in).toBe(3599);
    expect(r.json.ext_expires_in).toBe(3599);
    const [, payload] = (r.json.access_token as string).split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    expect(claims).toMatchObject({ tid: TENANT, appid: SECRET_APP, aud: 'https://outlook.office365.com', roles: ['Exchange.ManageAsApp'] });
  });

  it('v1 with resource= → numbers as strings, resource echoed', async () => {
    const r = await c.call('POST', `/${TENANT}/oauth2/token`, form({ client_id: SECRET_APP, client_secret: 'right-secret', resource: 'https://outlook.office365.com', grant_type: 'client_credentials' }));
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ token_type: 'Bearer', expires_in: '3599', ext_expires_in: '3599', resource: 'https://outlook.office365.com' });
    expect(r.json.expires_on).toMatch(/^\d+$/);
    expect(typeof r.json.access_token).toBe('string');
  });

  it('client_secret_basic works too', async () => {
    const basic = Buffer.from(`${SECRET_APP}:right-secret`).toString('base64');
    const r = await c.call('POST', `/${TENANT}/oauth2/v2.0/token`, { headers: { authorization: `Basic ${basic}` }, form: { scope: SCOPE, grant_type: 'client_credentials' } });
    expect(r.status).toBe(200);
  });

  it('wrong secret → 401 AADSTS7000215 in the documented shape', async () => {
    const r = await c.call('POST', `/${TENANT}/oauth2/v2.0/token`, {
      headers: { 'client-request-id': 'corr-1' },
      form: { client_id: SECRET_APP, client_secret: 'wrong', scope: SCOPE, grant_type: 'client_credentials' },
    });
    expect(r.status).toBe(401);
    expect(r.json.error).toBe('invalid_client');
    expect(r.json.error_description).toMatch(/^AADSTS7000215: Invalid client secret provided\. /);
    expect(r.json.error_codes).toEqual([7000215]);
    expect(r.json.correlation_id).toBe('corr-1');
    expect(Object.keys(r.json)).toEqual(expect.arrayContaining(['timestamp', 'trace_id', 'correlation_id', 'error_uri']));
    expect(r.text).not.toContain('wrong');
  });

  it('unknown tenant, unknown client, bad scope, bad grant, missing credentials', async () => {
    const base = { client_id: SECRET_APP, client_secret: 'right-secret', scope: SCOPE, grant_type: 'client_credentials' };
    const cases: [string, Record<string, string>, number, string, number][] = [
      ['/00000000-0000-4000-8000-00000000ffff/oauth2/v2.0/token', base, 400, 'invalid_request', 90002],
      [`/${TENANT}/oauth2/v2.0/token`, { ...base, client_id: '00000000-0000-4000-8000-00000000dead' }, 400, 'unauthorized_client', 700016],
      [`/${TENANT}/oauth2/v2.0/token`, { ...base, scope: 'https://graph.microsoft.com/.default' }, 400, 'invalid_resource', 500011],
      [`/${TENANT}/oauth2/v2.0/token`, { ...base, scope: 'https://outlook.office365.com/Exchange.ManageAsApp' }, 400, 'invalid_scope', 1002012],
      [`/${TENANT}/oauth2/v2.0/token`, { ...base, grant_type: 'password' }, 400, 'unsupported_grant_type', 70003],
      [`/${TENANT}/oauth2/v2.0/token`, { client_id: SECRET_APP, scope: SCOPE, grant_type: 'client_credentials' }, 401, 'invalid_client', 7000216],
    ];
    for (const [path, f, status, error, code] of cases) {
      const r = await c.call('POST', path, form(f));
      expect([path, f.scope, r.status, r.json.error, r.json.error_codes]).toEqual([path, f.scope, status, error, [code]]);
      expect(r.json.error_description).toMatch(new RegExp(`^AADSTS${code}: `));
    }
  });

  it('expires_in follows the configured token lifetime', async () => {
    emu.setFaults({ tokenLifetimeSeconds: 120 });
    try {
      const r = await c.call('POST', `/${TENANT}/oauth2/v2.0/token`, form({ client_id: SECRET_APP, client_secret: 'right-secret', scope: SCOPE, grant_type: 'client_credentials' }));
      expect(r.json.expires_in).toBeGreaterThanOrEqual(119);
      expect(r.json.expires_in).toBeLessThanOrEqual(120);
    } finally {
      emu.setFaults({ tokenLifetimeSeconds: 3599 });
    }
  });
});

describe('client assertion', () => {
  const post = (a: string) =>
    c.call('POST', `/${TENANT}/oauth2/v2.0/token`, form({
      client_id: CERT_APP,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: a,
      scope: SCOPE,
      grant_type: 'client_credentials',
    }));

  it('accepts RS256/x5t and PS256/x5t#S256 signed by the registered certificate', async () => {
    const rs = await post(assertion(cert.private, cert.cert, { alg: 'RS256' }));
    expect(rs.status, rs.text).toBe(200);
    const ps = await post(assertion(cert.private, cert.cert, { alg: 'PS256' }));
    expect(ps.status, ps.text).toBe(200);
    const claims = JSON.parse(Buffer.from(ps.json.access_token.split('.')[1], 'base64url').toString());
    expect(claims.appidacr).toBe('2');
  });

  it('rejects an unregistered certificate, a forged signature, a wrong aud, iss≠client_id, and an expired assertion', async () => {
    const other = await post(assertion(otherCert.private, otherCert.cert));
    expect([other.status, other.json.error_codes]).toEqual([401, [700027]]);
    // Registered thumbprint, signed by another key.
    const forged = await post(assertion(otherCert.private, cert.cert));
    expect([forged.status, forged.json.error_codes]).toEqual([401, [700027]]);
    const aud = await post(assertion(cert.private, cert.cert, { aud: 'https://login.example.com/x/oauth2/v2.0/token' }));
    expect([aud.status, aud.json.error]).toEqual([401, 'invalid_client']);
    const iss = await post(assertion(cert.private, cert.cert, { iss: SECRET_APP }));
    expect([iss.status, iss.json.error_codes]).toEqual([401, [700021]]);
    const exp = await post(assertion(cert.private, cert.cert, { exp: Math.floor(Date.now() / 1000) - 3600 }));
    expect([exp.status, exp.json.error_codes]).toEqual([401, [700024]]);
    const hs = await post(assertion(cert.private, cert.cert, { header: { alg: 'HS256' } }));
    expect(hs.status).toBe(401);
  });
});

describe('@azure/msal-node against the emulator', () => {
  // msal's own HTTP client would need NODE_EXTRA_CA_CERTS at process start; give it the CA via undici.
  const networkClient = (): INetworkModule => {
    const send = async <T>(method: 'GET' | 'POST', url: string, options?: { headers?: Record<string, string>; body?: string }): Promise<NetworkResponse<T>> => {
      const r = await request(url, { method, headers: options?.headers, body: options?.body, dispatcher: c.agent });
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(r.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      return { status: r.statusCode, headers, body: (await r.body.json()) as T };
    };
    return {
      sendGetRequestAsync: (url, options) => send('GET', url, options),
      sendPostRequestAsync: (url, options) => send('POST', url, options),
    };
  };
  const host = () => emu.url.replace('https://', '');

  it('acquires a token with a client secret', async () => {
    const app = new ConfidentialClientApplication({
      auth: { clientId: SECRET_APP, clientSecret: 'right-secret', authority: `${emu.url}/${TENANT}`, knownAuthorities: [host()] },
      system: { networkClient: networkClient() },
    });
    const r = await app.acquireTokenByClientCredential({ scopes: [SCOPE] });
    expect(r?.accessToken).toBeTruthy();
    expect(r?.tokenType).toBe('Bearer');
  });

  it('acquires a token with a certificate (msal signs PS256 with x5t#S256)', async () => {
    const thumb = createHash('sha256').update(new X509Certificate(cert.cert).raw).digest('hex');
    const app = new ConfidentialClientApplication({
      auth: {
        clientId: CERT_APP,
        clientCertificate: { thumbprintSha256: thumb, privateKey: cert.private },
        authority: `${emu.url}/fabrikam.onmicrosoft.com`,
        knownAuthorities: [host()],
      },
      system: { networkClient: networkClient() },
    });
    const r = await app.acquireTokenByClientCredential({ scopes: [SCOPE] });
    expect(r?.accessToken).toBeTruthy();
  });

  it('surfaces the AADSTS error for a wrong secret', async () => {
    const app = new ConfidentialClientApplication({
      auth: { clientId: SECRET_APP, clientSecret: 'nope', authority: `${emu.url}/${TENANT}`, knownAuthorities: [host()] },
      system: { networkClient: networkClient() },
    });
    await expect(app.acquireTokenByClientCredential({ scopes: [SCOPE] })).rejects.toThrow(/AADSTS7000215/);
  });
});
