/**
 * Entra ID, as far as a client-credentials client sees it: the OpenID configuration
 * msal-node discovers (every endpoint pointing back at this server), instance
 * discovery, the v2 and v1 token endpoints with client secret or a certificate
 * client assertion (RS256/x5t or PS256/x5t#S256, verified against the certificate
 * registered for the app), AADSTS-style errors, and the access tokens Exchange
 * checks. Tokens are HS256 JWTs under a per-start key: JWT-shaped for clients that
 * peek, verifiable only here.
 */
import { constants, createHmac, randomBytes, randomUUID, timingSafeEqual, verify as cryptoVerify } from 'node:crypto';
import { deterministicGuid } from './guid.js';
import type { AppRecord, TenantModel } from './model.js';
import type { Ctx, Env, Reply } from './http-util.js';
import { segments } from './http-util.js';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const CLOCK_SKEW_S = 300;

/** Directory role template ids of the roles a fixture is likely to name. */
const ROLE_IDS: Record<string, string> = {
  'global reader': 'f2ef992c-3afb-46b9-b7cf-a126ee74c451',
  'global administrator': '62e90394-69f5-4237-9190-012177145e10',
  'exchange administrator': '29232cdf-9323-42fd-ade2-1d097af3e4de',
  'exchange recipient administrator': '31392ffb-586c-42d1-9346-e59415a2cc4e',
  'security reader': '5d6b6bb7-de71-4623-b4af-96380a352509',
};

export interface AccessClaims {
  aud: string;
  iss: string;
  iat: number;
  nbf: number;
  exp: number;
  appid: string;
  app_displayname: string;
  appidacr: '1' | '2';
  idtyp: 'app';
  oid: string;
  roles: string[];
  wids: string[];
  tid: string;
  ver: '1.0';
  uti: string;
  /** Issue time in ms, so expireTokens() can revoke tokens minted within the same second. */
  emu_iat_ms: number;
}

export type TokenCheck =
  | { ok: true; claims: AccessClaims }
  | { ok: false; reason: 'missing' | 'malformed' | 'signature' | 'expired' | 'audience' };

export class TokenService {
  private readonly key = randomBytes(32);
  /** Tokens issued before this instant (ms) are treated as expired. */
  revokedBefore = 0;

  mint(claims: Omit<AccessClaims, 'emu_iat_ms'> & { emu_iat_ms?: number }): string {
    const header = { typ: 'JWT', alg: 'HS256', kid: 'ownersync-emulator' };
    const body = { ...claims, emu_iat_ms: claims.emu_iat_ms ?? Date.now() };
    const h = Buffer.from(JSON.stringify(header)).toString('base64url');
    const p = Buffer.from(JSON.stringify(body)).toString('base64url');
    const sig = createHmac('sha256', this.key).update(`${h}.${p}`).digest('base64url');
    return `${h}.${p}.${sig}`;
  }

  /** Mint an access token for Exchange as the token endpoint would, for `app` in `tenantId`. */
  issue(app: Pick<AppRecord, 'clientId' | 'displayName' | 'roles' | 'directoryRoles'>, tenantId: string, resource: string, lifetimeS: number, viaCert: boolean): { token: string; exp: number; iat: number } {
    const nowMs = Date.now();
    const iat = Math.floor(nowMs / 1000);
    // A fractional lifetime is allowed (fault tests); exp is then a non-integer NumericDate.
    const exp = nowMs / 1000 + lifetimeS;
    const token = this.mint({
      aud: resource,
      iss: `https://sts.windows.net/${tenantId}/`,
      iat,
      nbf: iat,
      exp,
      appid: app.clientId,
      app_displayname: app.displayName,
      appidacr: viaCert ? '2' : '1',
      idtyp: 'app',
      oid: deterministicGuid('service-principal', app.clientId),
      roles: [...app.roles],
      wids: app.directoryRoles.map((r) => ROLE_IDS[r.toLowerCase()] ?? deterministicGuid('directory-role', r)),
      tid: tenantId,
      ver: '1.0',
      uti: randomBytes(16).toString('base64url'),
      emu_iat_ms: nowMs,
    });
    return { token, exp, iat };
  }

  check(authorization: string | undefined, acceptedResources: string[]): TokenCheck {
    if (!authorization) return { ok: false, reason: 'missing' };
    const m = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!m) return { ok: false, reason: 'malformed' };
    const parts = m[1]!.split('.');
    if (parts.length !== 3) return { ok: false, reason: 'malformed' };
    const expected = createHmac('sha256', this.key).update(`${parts[0]}.${parts[1]}`).digest();
    const given = Buffer.from(parts[2]!, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'signature' };
    let claims: AccessClaims;
    try {
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as AccessClaims;
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    if (claims.exp * 1000 <= Date.now() || claims.emu_iat_ms < this.revokedBefore) return { ok: false, reason: 'expired' };
    if (!acceptedResources.some((r) => normResource(r) === normResource(claims.aud))) return { ok: false, reason: 'audience' };
    return { ok: true, claims };
  }
}

function normResource(r: string): string {
  return r.trim().replace(/\/+$/, '').toLowerCase();
}

/** The tenant a path segment names (id or organization domain), if it is ours. */
export function tenantMatches(model: TenantModel, seg: string): boolean {
  const s = seg.toLowerCase();
  return s === model.tenantId.toLowerCase() || s === model.organization.toLowerCase();
}

// ---------------------------------------------------------------- errors

function aadError(ctx: Ctx, status: number, error: string, code: number, text: string): Reply {
  const now = new Date();
  const ts = now.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  const traceId = randomUUID();
  const correlationId = ctx.header('client-request-id') ?? randomUUID();
  return {
    status,
    headers: { 'Cache-Control': 'no-store, no-cache', Pragma: 'no-cache' },
    json: {
      error,
      error_description: `AADSTS${code}: ${text} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${ts}`,
      error_codes: [code],
      timestamp: ts,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `${ctx.baseUrl}/error?code=${code}`,
    },
  };
}

// ---------------------------------------------------------------- routes

export interface EntraRoute {
  route: string;
  handle(ctx: Ctx, env: Env): Reply;
}

/** Find the Entra route for a request (undefined: not an Entra path). */
export function matchEntra(method: string, path: string): EntraRoute | undefined {
  const seg = segments(path);
  if (!seg || seg.length === 0) return undefined;
  const [tenant, ...rest] = seg as [string, ...string[]];
  const tail = rest.join('/');
  if (method === 'GET' && tenant.toLowerCase() === 'common' && tail === 'discovery/instance') {
    return { route: '/common/discovery/instance', handle: instanceDiscovery };
  }
  if (method === 'GET' && (tail === 'v2.0/.well-known/openid-configuration' || tail === '.well-known/openid-configuration')) {
    const v2 = tail.startsWith('v2.0');
    return { route: `/{tenant}/${tail}`, handle: (ctx, env) => openIdConfig(ctx, env, tenant, v2) };
  }
  if (method === 'GET' && (tail === 'discovery/v2.0/keys' || tail === 'discovery/keys')) {
    return { route: `/{tenant}/${tail}`, handle: () => ({ status: 200, json: { keys: [] } }) };
  }
  if (tail === 'oauth2/v2.0/token' || tail === 'oauth2/token') {
    const v2 = tail === 'oauth2/v2.0/token';
    return {
      route: `/{tenant}/${tail}`,
      handle: (ctx, env) =>
        method === 'POST' ? token(ctx, env, tenant, v2) : aadError(ctx, 405, 'invalid_request', 900561, 'The endpoint only accepts POST requests.'),
    };
  }
  if (tail === 'oauth2/v2.0/authorize' || tail === 'oauth2/authorize' || tail === 'oauth2/v2.0/logout') {
    return {
      route: `/{tenant}/${tail}`,
      handle: (ctx) => aadError(ctx, 400, 'invalid_request', 900144, 'Interactive sign-in is not emulated; use the client credentials grant.'),
    };
  }
  return undefined;
}

function instanceDiscovery(ctx: Ctx): Reply {
  const host = ctx.baseUrl.replace(/^https:\/\//, '');
  const authEndpoint = ctx.url.searchParams.get('authorization_endpoint') ?? '';
  const tenant = /^https:\/\/[^/]+\/([^/]+)\//.exec(authEndpoint)?.[1] ?? 'common';
  return {
    status: 200,
    json: {
      tenant_discovery_endpoint: `${ctx.baseUrl}/${tenant}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    },
  };
}

function openIdConfig(ctx: Ctx, env: Env, tenantSeg: string, v2: boolean): Reply {
  if (!tenantMatches(env.model, tenantSeg)) {
    return aadError(ctx, 400, 'invalid_tenant', 90002, `Tenant '${tenantSeg}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
  }
  const b = ctx.baseUrl;
  const t = env.model.tenantId;
  const o2 = v2 ? 'oauth2/v2.0' : 'oauth2';
  return {
    status: 200,
    json: {
      token_endpoint: `${b}/${t}/${o2}/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${b}/${t}/discovery/${v2 ? 'v2.0/' : ''}keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: v2 ? `${b}/${t}/v2.0` : `${b.replace(/\/$/, '')}/${t}/`,
      request_uri_parameter_supported: false,
      authorization_endpoint: `${b}/${t}/${o2}/authorize`,
      device_authorization_endpoint: `${b}/${t}/${o2}/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${b}/${t}/${o2}/logout`,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'tid', 'ver'],
      tenant_region_scope: 'EU',
      cloud_instance_name: 'emulator.local',
      cloud_graph_host_name: 'graph.emulator.local',
      msgraph_host: 'graph.emulator.local',
    },
  };
}

function token(ctx: Ctx, env: Env, tenantSeg: string, v2: boolean): Reply {
  const model = env.model;
  if (!tenantMatches(model, tenantSeg)) {
    return aadError(ctx, 400, 'invalid_request', 90002, `Tenant '${tenantSeg}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
  }
  const form = new URLSearchParams(ctx.body.toString('utf8'));
  const grant = form.get('grant_type');
  if (!grant) return aadError(ctx, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'grant_type'.");
  if (grant !== 'client_credentials') {
    return aadError(ctx, 400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grant}'.`);
  }

  // client_secret_basic: credentials in the Authorization header.
  let clientId = form.get('client_id');
  let secret = form.get('client_secret');
  const basic = /^Basic\s+(\S+)$/i.exec(ctx.header('authorization') ?? '');
  if (basic) {
    const dec = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const i = dec.indexOf(':');
    if (i > 0) {
      clientId ??= decodeURIComponent(dec.slice(0, i));
      secret ??= decodeURIComponent(dec.slice(i + 1));
    }
  }
  const assertion = form.get('client_assertion');
  const assertionType = form.get('client_assertion_type');
  if (!clientId && assertion) clientId = peekIss(assertion);
  if (!clientId) return aadError(ctx, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.");
  const app = model.apps.get(clientId.toLowerCase());
  if (!app) {
    return aadError(
      ctx,
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${model.displayName}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    );
  }

  // The resource: v2 `scope` = "<resource>/.default", v1 `resource`.
  let resource: string;
  if (v2) {
    const scope = (form.get('scope') ?? '').trim();
    if (!scope) return aadError(ctx, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'scope'.");
    const scopes = scope.split(/\s+/);
    const def = scopes.filter((s) => s.endsWith('/.default'));
    if (def.length !== 1 || scopes.length !== 1) {
      return aadError(ctx, 400, 'invalid_scope', 1002012, `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
    }
    resource = def[0]!.slice(0, -'/.default'.length);
  } else {
    const r = form.get('resource');
    if (!r) return aadError(ctx, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'resource'.");
    resource = r;
  }
  const accepted = env.options.entra.acceptedResources.find((a) => normResource(a) === normResource(resource));
  if (!accepted) {
    return aadError(ctx, 400, 'invalid_resource', 500011, `The resource principal named ${resource} was not found in the tenant named ${model.displayName}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`);
  }

  // Credentials.
  let viaCert = false;
  if (assertion || assertionType) {
    if (secret) return aadError(ctx, 400, 'invalid_request', 70002, 'Error validating credentials. More than one client credential was provided; send either client_secret or client_assertion.');
    if (assertionType !== JWT_BEARER) {
      return aadError(ctx, 400, 'invalid_request', 70002, `Error validating credentials. The client_assertion_type must be '${JWT_BEARER}'.`);
    }
    if (!assertion) return aadError(ctx, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_assertion'.");
    const err = verifyAssertion(ctx, app, assertion, model.tenantId, model.organization);
    if (err) return err;
    viaCert = true;
  } else if (secret) {
    if (!app.secrets.includes(secret)) {
      return aadError(
        ctx,
        401,
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`,
      );
    }
  } else {
    return aadError(ctx, 401, 'invalid_client', 7000216, "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.");
  }

  const lifetime = env.faults().tokenLifetimeSeconds;
  const { token: accessToken, iat, exp } = env.tokens.issue(app, model.tenantId, accepted, lifetime, viaCert);
  const expiresIn = Math.max(0, Math.floor(lifetime));
  const headers = { 'Cache-Control': 'no-store, no-cache', Pragma: 'no-cache' };
  if (v2) {
    return { status: 200, headers, json: { token_type: 'Bearer', expires_in: expiresIn, ext_expires_in: expiresIn, access_token: accessToken } };
  }
  // v1 replies carry numbers as strings.
  return {
    status: 200,
    headers,
    json: {
      token_type: 'Bearer',
      expires_in: String(expiresIn),
      ext_expires_in: String(expiresIn),
      expires_on: String(Math.floor(exp)),
      not_before: String(iat),
      resource,
      access_token: accessToken,
    },
  };
}

function peekIss(jwt: string): string | null {
  try {
    const p = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iss?: unknown };
    return typeof p.iss === 'string' ? p.iss : null;
  } catch {
    return null;
  }
}

/** Verify a certificate client assertion; returns the error reply, or undefined when valid. */
function verifyAssertion(ctx: Ctx, app: AppRecord, jwt: string, tenantId: string, organization: string): Reply | undefined {
  const bad = (code: number, text: string, status = 401, error = 'invalid_client'): Reply => aadError(ctx, status, error, code, text);
  const parts = jwt.split('.');
  if (parts.length !== 3) return bad(50027, 'JWT token is invalid or malformed.', 400, 'invalid_request');
  let header: Record<string, unknown>;
  let payload: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return bad(50027, 'JWT token is invalid or malformed.', 400, 'invalid_request');
  }
  const alg = header.alg;
  if (alg !== 'RS256' && alg !== 'PS256') return bad(5002738, `Invalid JWT token. '${String(alg)}' is not a supported signature algorithm.`);
  const x5t = typeof header.x5t === 'string' ? header.x5t : undefined;
  const x5tS256 = typeof header['x5t#S256'] === 'string' ? (header['x5t#S256'] as string) : undefined;
  if (!x5t && !x5tS256) return bad(700027, 'Client assertion failed signature validation. [Reason - The key was not found. No x5t or x5t#S256 header.]');
  const cert = app.certificates.find((c) => (x5t && c.x5t === x5t) || (x5tS256 && c.x5tS256 === x5tS256));
  if (!cert) {
    return bad(700027, `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${x5t ?? x5tS256}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${app.clientId}'.]`);
  }
  const data = Buffer.from(`${parts[0]}.${parts[1]}`);
  const sig = Buffer.from(parts[2]!, 'base64url');
  let valid = false;
  try {
    valid =
      alg === 'PS256'
        ? cryptoVerify('sha256', data, { key: cert.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, sig)
        : cryptoVerify('sha256', data, { key: cert.publicKey, padding: constants.RSA_PKCS1_PADDING }, sig);
  } catch {
    valid = false;
  }
  if (!valid) return bad(700027, 'Client assertion failed signature validation. [Reason - The provided signature value did not match the expected signature value.]');
  if (payload.iss !== app.clientId || payload.sub !== app.clientId) {
    return bad(700021, `Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .`);
  }
  const auds = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  const okAud = auds.some((a) => {
    if (typeof a !== 'string') return false;
    let u: URL;
    try {
      u = new URL(a);
    } catch {
      return false;
    }
    const segs = u.pathname.split('/').filter(Boolean);
    const t = (segs[0] ?? '').toLowerCase();
    const rest = segs.slice(1).join('/');
    const base = new URL(ctx.baseUrl);
    const hostOk = u.port === base.port && ['127.0.0.1', 'localhost', base.hostname].includes(u.hostname);
    return u.protocol === 'https:' && hostOk && (t === tenantId.toLowerCase() || t === organization.toLowerCase()) && ['oauth2/v2.0/token', 'oauth2/token', 'v2.0', ''].includes(rest);
  });
  if (!okAud) return bad(700212, `No matching federated identity record found for presented assertion audience '${String(payload.aud)}'. The audience must be the token endpoint of this tenant.`);
  const now = Date.now() / 1000;
  if (typeof payload.exp !== 'number') return bad(700024, 'Client assertion is not within its valid time range. [Reason - the exp claim is missing.]');
  if (payload.exp + CLOCK_SKEW_S < now) {
    return bad(700024, `Client assertion is not within its valid time range. Current time: ${new Date(now * 1000).toISOString()}, expiry time of assertion ${new Date(payload.exp * 1000).toISOString()}.`);
  }
  if (typeof payload.nbf === 'number' && payload.nbf - CLOCK_SKEW_S > now) {
    return bad(700024, `Client assertion is not within its valid time range. [Reason - not valid before ${new Date(payload.nbf * 1000).toISOString()}.]`);
  }
  return undefined;
}
