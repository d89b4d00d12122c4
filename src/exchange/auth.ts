/**
 * App-only Entra ID token for the Exchange admin API, via msal-node's
 * ConfidentialClientApplication (client secret or certificate), with msal's HTTP
 * going through our HttpClient (see msal-network.ts).
 *
 * Authority `{authorityHost}/{tenantId}`; scope `{resource}/.default`, where the
 * resource is the cloud's Exchange Online resource (https://outlook.office365.com for
 * O365Default). It follows `exchange.environment`, not an `adminApiUrl` override: an
 * override (a proxy, the emulator) changes where requests go, not which audience the
 * token is for. For a host
 * that is not one of Microsoft's (an emulator, a test server) the host is listed in
 * `knownAuthorities`, so msal trusts it and skips instance discovery, which would
 * otherwise ask login.microsoftonline.com about it.
 *
 * Tokens are cached until five minutes before they expire; `getToken(true)` renews
 * (after a 401 from Exchange). Every token is registered with the redactor.
 */
import { ConfidentialClientApplication, LogLevel, type Configuration } from '@azure/msal-node';
import type { EffectiveConfig, ExchangeEnvironment } from '../config/types.js';
import { OwnersyncError } from '../errors.js';
import { HttpClient, HttpError, type HttpClientOptions } from '../http/index.js';
import { redact, registerSecret } from '../redact.js';
import { loadCertificate } from './certificate.js';
import { MsalNetworkModule } from './msal-network.js';

/** What the Exchange client needs from authentication. */
export interface TokenProvider {
  /**
   * A bearer token for the Exchange admin API; `forceRefresh` skips every cache.
   * `rejected`: the token the server refused; when another caller has already renewed
   * it, the renewed one is returned without a new request.
   */
  getToken(forceRefresh?: boolean, rejected?: string): Promise<string>;
}

/** Entra ID hosts msal already knows (public and sovereign clouds). */
const MICROSOFT_AUTHORITY_HOSTS = new Set([
  'login.microsoftonline.com',
  'login.windows.net',
  'login.microsoft.com',
  'sts.windows.net',
  'login.microsoftonline.us',
  'login.usgovcloudapi.net',
  'login-us.microsoftonline.com',
  'login.chinacloudapi.cn',
  'login.partner.microsoftonline.cn',
  'login.microsoftonline.de',
]);

/** The Exchange Online resource (token audience) of each cloud, as Connect-ExchangeOnline uses. */
export const EXCHANGE_RESOURCE: Readonly<Record<ExchangeEnvironment, string>> = {
  O365Default: 'https://outlook.office365.com',
  O365USGovGCCHigh: 'https://outlook.office365.us',
  O365USGovDoD: 'https://webmail.apps.mil',
  O365China: 'https://partner.outlook.cn',
};

/** Renew this long before expiry, so a token does not run out in the middle of a page. */
const EXPIRY_MARGIN_MS = 5 * 60_000;

export interface EntraAuthOptions {
  tenantId: string;
  clientId: string;
  clientSecret?: string;
  certificate?: EffectiveConfig['exchange']['certificate'];
  /** e.g. https://login.microsoftonline.com (no trailing slash). */
  authorityHost: string;
  /** Cloud; picks the token resource. @default 'O365Default' */
  environment?: ExchangeEnvironment;
  /** Token resource override (the scope is `{resource}/.default`). @default EXCHANGE_RESOURCE[environment] */
  resource?: string;
  /** Client for the token endpoint (service 'entra'); made from `httpOptions` when absent. */
  http?: HttpClient;
  httpOptions?: Omit<HttpClientOptions, 'service'>;
  /** Clock, for tests. @default Date.now */
  now?: () => number;
}

export class EntraAuth implements TokenProvider {
  readonly tenantId: string;
  readonly authority: string;
  readonly scope: string;
  private readonly app: ConfidentialClientApplication;
  private readonly network: MsalNetworkModule;
  private readonly now: () => number;
  private cached: { token: string; expiresAt: number } | undefined;
  private pending: Promise<string> | undefined;
  /** A forced renewal under way (after a 401), shared by every request that saw that 401. */
  private pendingForced: Promise<string> | undefined;

  constructor(options: EntraAuthOptions) {
    this.tenantId = options.tenantId;
    this.now = options.now ?? Date.now;
    const host = options.authorityHost.replace(/\/+$/, '');
    this.authority = `${host}/${options.tenantId}`;
    const resource = options.resource ?? EXCHANGE_RESOURCE[options.environment ?? 'O365Default'];
    this.scope = `${resource.replace(/\/+$/, '')}/.default`;
    registerSecret(options.clientSecret);

    const http = options.http ?? new HttpClient({ ...options.httpOptions, service: 'entra', hostSetting: 'exchange.authorityHost' });
    this.network = new MsalNetworkModule(http);

    const auth: Configuration['auth'] = { clientId: options.clientId, authority: this.authority };
    const hostName = new URL(host).host.toLowerCase();
    if (!MICROSOFT_AUTHORITY_HOSTS.has(hostName)) auth.knownAuthorities = [hostName];
    if (options.certificate) {
      const cert = loadCertificate(options.certificate);
      auth.clientCertificate = { thumbprintSha256: cert.thumbprintSha256, privateKey: cert.privateKey, x5c: cert.x5c };
    } else if (options.clientSecret) {
      auth.clientSecret = options.clientSecret;
    } else {
      throw new OwnersyncError('exchange: set exactly one of clientSecret or certificate');
    }
    this.app = new ConfidentialClientApplication({
      auth,
      system: {
        networkClient: this.network,
        // msal logs can carry request details; keep them off entirely.
        loggerOptions: { logLevel: LogLevel.Error, piiLoggingEnabled: false, loggerCallback: () => {} },
      },
    });
  }

  async getToken(forceRefresh = false, rejected?: string): Promise<string> {
    if (!forceRefresh && this.cached && this.cached.expiresAt - EXPIRY_MARGIN_MS > this.now()) return this.cached.token;
    // A 401 seen by many requests in flight is one expiry: renew once. Callers that name
    // the token they saw rejected share the renewal already made or under way.
    if (forceRefresh && rejected !== undefined) {
      if (this.cached && this.cached.token !== rejected) return this.cached.token;
      if (this.pendingForced) return this.pendingForced;
    }
    // One token request at a time, however many callers are waiting for it.
    if (this.pending && !forceRefresh) return this.pending;
    const p = this.acquire(forceRefresh).finally(() => {
      if (this.pending === p) this.pending = undefined;
      if (this.pendingForced === p) this.pendingForced = undefined;
    });
    this.pending = p;
    if (forceRefresh) this.pendingForced = p;
    return p;
  }

  private async acquire(forceRefresh: boolean): Promise<string> {
    let result;
    this.network.lastError = undefined;
    try {
      result = await this.app.acquireTokenByClientCredential({ scopes: [this.scope], skipCache: forceRefresh });
    } catch (err) {
      throw this.explain(err);
    }
    if (!result?.accessToken) throw new OwnersyncError(`Entra ID returned no access token for tenant ${this.tenantId}`);
    registerSecret(result.accessToken);
    const expiresAt = result.expiresOn ? result.expiresOn.getTime() : this.now() + 3_600_000;
    this.cached = { token: result.accessToken, expiresAt };
    return result.accessToken;
  }

  /** Turn an msal error into one line naming Entra ID, the tenant and the AADSTS code. */
  private explain(err: unknown): OwnersyncError {
    if (err instanceof OwnersyncError) return err;
    const e = err as { errorCode?: string; errorMessage?: string; message?: string };
    const code = e.errorCode ?? '';
    const text = e.errorMessage ?? e.message ?? String(err);
    const aadsts = /AADSTS\d+:[^\r\n]*?(?:\.(?=\s|$)|$)/m.exec(text)?.[0]?.replace(/\.$/, '');
    const tenant = `tenant ${this.tenantId}`;
    const network = this.network.lastError;
    let message: string;
    if (network instanceof HttpError) {
      message = `Entra ID token request for ${tenant} failed: ${network.message}`;
    } else if (code === 'invalid_client' || code === 'unauthorized_client') {
      message = `Entra ID refused the client credentials for ${tenant} (${aadsts ?? code})`;
    } else if (aadsts) {
      message = `Entra ID refused the token request for ${tenant} (${aadsts})`;
    } else if (code === 'endpoints_resolution_error' || code === 'untrusted_authority') {
      message = `Entra ID authority ${this.authority} could not be resolved (${code}); check exchange.tenantId and exchange.authorityHost`;
    } else {
      message = `Entra ID token request for ${tenant} failed (${code || 'error'}: ${text.split('\n')[0]})`;
    }
    return new OwnersyncError(redact(message), undefined, { cause: err });
  }
}

/** EntraAuth from the effective config. */
export function createEntraAuth(
  cfg: Pick<EffectiveConfig, 'exchange'>,
  options: { http?: HttpClient; httpOptions?: Omit<HttpClientOptions, 'service'> } = {},
): EntraAuth {
  const ex = cfg.exchange;
  return new EntraAuth({
    tenantId: ex.tenantId,
    clientId: ex.clientId,
    ...(ex.clientSecret !== undefined ? { clientSecret: ex.clientSecret } : {}),
    ...(ex.certificate !== undefined ? { certificate: ex.certificate } : {}),
    authorityHost: ex.authorityHost,
    environment: ex.environment,
    ...options,
  });
}
