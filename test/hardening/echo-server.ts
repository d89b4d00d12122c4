/**
 * A hostile HTTPS server for the secret-hygiene tests: whatever it is asked, it answers
 * with an error whose body echoes the request's headers and body back — the
 * Authorization header (HelloID Basic key:secret, Exchange bearer token) and the token
 * request's form (client_secret). It also serves an OpenID configuration, so msal gets
 * as far as the token request when it is used as the authority host.
 *
 * Its certificate is self-signed (selfsigned, EC P-256) for 127.0.0.1; trust it by
 * adding `certPem` to the NODE_EXTRA_CA_CERTS bundle.
 */
import { randomBytes } from 'node:crypto';
import { createServer, request as httpsRequest, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { generate } from 'selfsigned';

export type EchoMode = 'error-500' | 'error-400' | 'html-200';

export interface EchoServer {
  url: string;
  certPem: string;
  readonly mode: EchoMode;
  /** Every request received: method, path, headers, body. */
  readonly log: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }>;
  close(): Promise<void>;
}

export interface EchoOptions {
  /**
   * Forward every request to this server (e.g. the emulator) except those `echoWhen`
   * picks, which get the echoing error: a hostile answer to just one kind of call.
   */
  upstream?: { url: string; caPem: string };
  echoWhen?: (path: string, body: string) => boolean;
}

/** Forward a request to `upstream` and relay the answer. */
function forward(upstream: NonNullable<EchoOptions['upstream']>, req: IncomingMessage, res: ServerResponse, body: string): void {
  const target = new URL(req.url ?? '/', upstream.url);
  const headers = { ...req.headers, host: target.host };
  delete headers['content-length'];
  const up = httpsRequest(target, { method: req.method, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, ca: upstream.caPem }, (ur) => {
    res.writeHead(ur.statusCode ?? 502, ur.headers);
    ur.pipe(res);
  });
  up.on('error', (err) => {
    res.writeHead(502, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ message: `echo server: upstream failed: ${err.message}` }));
  });
  up.end(body);
}

export async function startEchoServer(mode: EchoMode = 'error-500', options: EchoOptions = {}): Promise<EchoServer> {
  // A unique subject per server: OpenSSL finds trust anchors by subject name, so two
  // certificates with one name in one bundle would shadow each other.
  const pems = await generate([{ name: 'commonName', value: `ownersync echo server ${mode} ${randomBytes(4).toString('hex')}` }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: new Date(Date.now() - 60_000),
    notAfterDate: new Date(Date.now() + 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] },
    ],
  });
  const log: EchoServer['log'] = [];
  const sockets = new Set<Socket>();
  const state = { mode };

  const handle = (req: IncomingMessage, res: ServerResponse, body: string): void => {
    const path = req.url ?? '/';
    const host = req.headers.host ?? '127.0.0.1';
    const base = `https://${host}`;
    // What matters first: clients quote only the start of an error body.
    const echo = `You sent authorization=${req.headers.authorization ?? ''} body=${body} request=${req.method} ${path} headers=${JSON.stringify(req.headers)}`;
    const send = (status: number, json: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json', 'retry-after': '0.01', ...headers });
      res.end(JSON.stringify(json));
    };
    const oidc = /^\/([^/]+)\/(v2\.0\/)?\.well-known\/openid-configuration/.exec(path);
    if (req.method === 'GET' && oidc) {
      const t = oidc[1];
      send(200, {
        token_endpoint: `${base}/${t}/oauth2/v2.0/token`,
        token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt'],
        jwks_uri: `${base}/${t}/discovery/v2.0/keys`,
        response_modes_supported: ['query'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        response_types_supported: ['code'],
        scopes_supported: ['openid'],
        issuer: `${base}/${t}/v2.0`,
        authorization_endpoint: `${base}/${t}/oauth2/v2.0/authorize`,
        end_session_endpoint: `${base}/${t}/oauth2/v2.0/logout`,
        claims_supported: ['sub'],
        tenant_region_scope: 'EU',
        cloud_instance_name: 'echo.local',
        cloud_graph_host_name: 'graph.echo.local',
        msgraph_host: 'graph.echo.local',
      });
      return;
    }
    if (/\/oauth2\/(v2\.0\/)?token/.test(path)) {
      // As Entra would say it, but quoting the request (client_secret included).
      send(401, { error: 'invalid_client', error_description: `AADSTS7000215: Invalid client secret provided. ${echo}`, error_codes: [7000215] });
      return;
    }
    if (state.mode === 'html-200') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<html><body><pre>${echo}</pre></body></html>`);
      return;
    }
    const status = state.mode === 'error-400' ? 400 : 500;
    if (path.startsWith('/adminapi/')) send(status, { error: { code: 'InternalServerError', message: echo, details: [echo] } });
    else send(status, { message: echo, resultMsg: echo, error: echo });
  };

  const server: Server = createServer({ cert: pems.cert, key: pems.private }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      log.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (options.upstream && !(options.echoWhen?.(req.url ?? '/', body) ?? false)) forward(options.upstream, req, res, body);
      else handle(req, res, body);
    });
  });
  server.on('secureConnection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    certPem: pems.cert,
    mode,
    log,
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
