/**
 * Replay of a field transcript (`ownersync emulator --replay FILE`): an HTTPS server on
 * 127.0.0.1, with the same throwaway-CA setup as the emulator, that answers each
 * request with what the recorded tenant answered, so `plan` against it reproduces the
 * recorded run's plan (in pseudonyms) and a maintainer can debug a tenant they cannot see.
 *
 * Requests are matched, not simulated:
 *  - Exchange InvokeCommand: cmdlet + parameters (keys sorted) + `$skiptoken`;
 *  - Exchange `$batch`: the same list of sub-requests; when the run batches differently,
 *    each sub-request is answered on its own from the recorded sub-responses;
 *  - HelloID: method + decoded path + query;
 *  - Entra ID: method + path. Its bodies are never recorded, so the replay makes them:
 *    an OpenID configuration pointing at itself and a dummy token (any credentials do).
 * A request that repeats gets the recorded answers in recorded order (a 429 or 503
 * first, then the success that followed it), the last one again when they run out.
 * A recorded network failure is replayed by closing the connection. Links in bodies
 * (`@odata.nextLink`) are pointed at the replay server. A request nothing was recorded
 * for gets 501 with a message naming it, and is listed by `misses()`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTranscript, type Transcript, type TranscriptConfig, type TranscriptEntry } from '../transcript/format.js';
import { makeTlsMaterial } from './certs.js';
import { readBody, writeReply, type Reply } from './http-util.js';

export interface ReplayOptions {
  /** A transcript file, or one already read. */
  transcript: string | Transcript;
  /** Default 0: any free port. */
  port?: number;
  /** Also keep the CA certificate here (default: a temp file removed at stop). */
  caPath?: string;
}

export interface Replay {
  url: string;
  port: number;
  caPath: string;
  caPem: string;
  /** The recorded run's sync settings (pseudonymised). */
  config: TranscriptConfig;
  transcript: Transcript;
  /** ownersync.yaml for running `plan` against this replay (credentials as ${ENV}; any value is accepted). */
  configSnippet(): string;
  /** Environment for the snippet: dummy credentials and NODE_EXTRA_CA_CERTS. */
  env(): Record<string, string>;
  /** Requests that had no recorded answer, as "METHOD path (cmdlet)". */
  misses(): string[];
  /** Requests answered from the transcript. */
  served(): number;
  stop(): Promise<void>;
}

/** A recorded answer: status (undefined = the connection failed), headers, body. */
interface Answer {
  status?: number;
  headers: Record<string, string>;
  json?: unknown;
  text?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON with object keys sorted, so parameter order does not matter. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObj(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

/** The match key of one InvokeCommand body (+ page token). */
function invokeKey(body: unknown, skiptoken: string | null): string | undefined {
  const ci = isObj(body) ? body.CmdletInput : undefined;
  if (!isObj(ci) || typeof ci.CmdletName !== 'string') return undefined;
  return `${ci.CmdletName} ${canonical(ci.Parameters ?? {})}${skiptoken ? ` $skiptoken=${skiptoken}` : ''}`;
}

function subBody(r: unknown): unknown {
  const b = isObj(r) ? r.body : undefined;
  if (typeof b !== 'string') return b;
  try {
    return JSON.parse(b) as unknown;
  } catch {
    return b;
  }
}

function skiptokenOf(url: string): string | null {
  try {
    return new URL(url, 'https://replay.invalid').searchParams.get('$skiptoken');
  } catch {
    return null;
  }
}

/** The keys of a request: service, the key itself, and for $batch the sub-request keys. */
function requestKey(service: string, method: string, pathAndQuery: string, body: unknown): { key: string; subs?: Array<{ id: string; key: string }> } {
  const url = new URL(pathAndQuery, 'https://replay.invalid');
  if (service === 'exchange') {
    if (/\/\$batch$/i.test(url.pathname) && isObj(body) && Array.isArray(body.requests)) {
      const subs = body.requests.map((r, i) => ({
        id: isObj(r) && r.id !== undefined ? String(r.id) : String(i + 1),
        key: invokeKey(subBody(r), skiptokenOf(isObj(r) && typeof r.url === 'string' ? r.url : '')) ?? '?',
      }));
      return { key: `exchange $batch ${subs.map((s) => s.key).join(' | ')}`, subs };
    }
    const k = invokeKey(body, url.searchParams.get('$skiptoken'));
    return { key: `exchange ${method} ${k ?? decodePath(url.pathname)}` };
  }
  if (service === 'helloid') return { key: `helloid ${method} ${decodePath(url.pathname)}${url.search}` };
  return { key: `entra ${method} ${decodePath(url.pathname)}` };
}

function decodePath(p: string): string {
  return p
    .split('/')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    })
    .join('/');
}

function serviceOf(path: string): 'exchange' | 'helloid' | 'entra' {
  if (path.startsWith('/adminapi/')) return 'exchange';
  if (path.startsWith('/api/')) return 'helloid';
  return 'entra';
}

/** Answers in recorded order; the last one stays for any further repeat. */
class AnswerQueue {
  private readonly queues = new Map<string, Answer[]>();
  add(key: string, a: Answer): void {
    const q = this.queues.get(key);
    if (q) q.push(a);
    else this.queues.set(key, [a]);
  }
  take(key: string): Answer | undefined {
    const q = this.queues.get(key);
    if (!q || q.length === 0) return undefined;
    return q.length > 1 ? q.shift() : q[0];
  }
  has(key: string): boolean {
    return (this.queues.get(key)?.length ?? 0) > 0;
  }
}

function answerOf(e: TranscriptEntry): Answer {
  return {
    ...(e.status !== undefined ? { status: e.status } : {}),
    headers: e.responseHeaders ?? {},
    ...(e.response !== undefined ? { json: e.response } : {}),
    ...(e.responseText !== undefined ? { text: e.responseText } : {}),
  };
}

/** Absolute URLs in a body that point at a recorded service are pointed at the replay. */
function relink(v: unknown, base: string): unknown {
  if (typeof v === 'string') {
    return v.replace(/https?:\/\/[^/\s"']+(?=\/(?:adminapi|api)\/)|https?:\/\/[a-z0-9.-]*\.pseudonym\.invalid/gi, base);
  }
  if (Array.isArray(v)) return v.map((x) => relink(x, base));
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, relink(x, base)]));
  return v;
}

function entraAnswer(method: string, path: string, status: number, base: string): Reply {
  if (status !== 200) {
    return { status, json: { error: status === 429 || status >= 500 ? 'temporarily_unavailable' : 'invalid_request', error_description: `AADSTS90000: replayed status ${status} (the transcript keeps no Entra ID bodies).`, error_codes: [90000] } };
  }
  const tenant = path.split('/')[1] ?? 'common';
  if (method === 'GET' && path.endsWith('/.well-known/openid-configuration')) {
    const o2 = path.includes('/v2.0/') ? 'oauth2/v2.0' : 'oauth2';
    return {
      status: 200,
      json: {
        token_endpoint: `${base}/${tenant}/${o2}/token`,
        token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt'],
        jwks_uri: `${base}/${tenant}/discovery/v2.0/keys`,
        issuer: `${base}/${tenant}/v2.0`,
        authorization_endpoint: `${base}/${tenant}/${o2}/authorize`,
        end_session_endpoint: `${base}/${tenant}/${o2}/logout`,
        response_modes_supported: ['query', 'fragment', 'form_post'],
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'tid', 'ver'],
        tenant_region_scope: 'EU',
        cloud_instance_name: 'replay.invalid',
      },
    };
  }
  if (method === 'GET' && /\/discovery\/(v2\.0\/)?keys$/.test(path)) return { status: 200, json: { keys: [] } };
  return { status: 200, json: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: 'replay-token-not-a-secret' } };
}

function yamlString(s: string): string {
  return JSON.stringify(s);
}

export async function startReplay(opts: ReplayOptions): Promise<Replay> {
  const transcript = typeof opts.transcript === 'string' ? readTranscript(opts.transcript) : opts.transcript;
  const answers = new AnswerQueue();
  const subAnswers = new AnswerQueue();
  const entra = new AnswerQueue();
  for (const e of [...transcript.entries].sort((a, b) => a.seq - b.seq)) {
    const { key, subs } = requestKey(e.service, e.method, e.path, e.request);
    if (e.service === 'entra') {
      entra.add(key, answerOf(e));
      continue;
    }
    answers.add(key, answerOf(e));
    // Sub-level answers for a run that batches differently: from $batch replies and single calls.
    if (subs && e.status === 200 && isObj(e.response) && Array.isArray(e.response.responses)) {
      for (const r of e.response.responses) {
        if (!isObj(r)) continue;
        const sub = subs.find((s) => s.id === String(r.id));
        if (sub) subAnswers.add(sub.key, { status: Number(r.status), headers: {}, json: subBody(r) });
      }
    } else if (!subs && e.status !== undefined && e.service === 'exchange') {
      subAnswers.add(key.replace(/^exchange POST /, ''), answerOf(e));
    }
  }

  const tls = await makeTlsMaterial();
  let tempDir: string | undefined;
  let caPath = opts.caPath;
  if (!caPath) {
    tempDir = await mkdtemp(join(tmpdir(), 'ownersync-replay-'));
    caPath = join(tempDir, 'ca.pem');
  }
  await writeFile(caPath, tls.caPem, 'utf8');

  const misses: string[] = [];
  let served = 0;
  let base = '';
  const sockets = new Set<Socket>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = await readBody(req, 16 * 1024 * 1024);
    const method = (req.method ?? 'GET').toUpperCase();
    const pathAndQuery = req.url ?? '/';
    const path = pathAndQuery.split('?')[0] ?? '/';
    const service = serviceOf(path);
    let body: unknown;
    try {
      body = raw.length > 0 ? (JSON.parse(raw.toString('utf8')) as unknown) : undefined;
    } catch {
      body = undefined;
    }
    const { key, subs } = requestKey(service, method, pathAndQuery, body);

    if (service === 'entra') {
      const a = entra.take(key);
      if (!a) {
        misses.push(`${method} ${path}`);
        writeReply(res, { status: 501, json: { error: 'not_recorded', error_description: `replay: no recorded Entra ID exchange for ${method} ${path}` } });
        return;
      }
      served++;
      if (a.status === undefined) return void req.socket.destroy();
      writeReply(res, { ...entraAnswer(method, path, a.status, base), headers: a.headers });
      return;
    }

    let a = answers.take(key);
    if (!a && subs) {
      // Batched differently from the recorded run: answer each sub-request on its own.
      const responses = subs.map((s) => {
        const sa = subAnswers.take(s.key);
        if (!sa || sa.status === undefined) {
          misses.push(`$batch sub-request ${s.key}`);
          return { id: s.id, status: 501, body: { error: { code: 'NotRecorded', message: `replay: no recorded answer for ${s.key}`, details: [] } } };
        }
        return { id: s.id, status: sa.status, body: sa.json ?? sa.text ?? {} };
      });
      a = { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, json: { responses } };
    }
    if (!a) {
      misses.push(`${method} ${decodePath(pathAndQuery)}`);
      const message = `replay: no recorded answer for ${key}`;
      writeReply(res, { status: 501, json: service === 'exchange' ? { error: { code: 'NotRecorded', message, details: [] } } : { message } });
      return;
    }
    served++;
    if (a.status === undefined) return void req.socket.destroy();
    const json = a.json !== undefined ? relink(a.json, base) : undefined;
    writeReply(res, { status: a.status, headers: a.headers, ...(json !== undefined ? { json } : a.text !== undefined ? { text: a.text } : {}) });
  };

  const server: Server = createServer({ key: tls.serverKeyPem, cert: tls.serverCertPem, keepAliveTimeout: 5_000 }, (req, res) => {
    handle(req, res).catch((e: unknown) => writeReply(res, { status: 500, json: { message: `replay bug: ${(e as Error).message}` } }));
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => undefined);
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : 0);
    });
  });
  base = `https://127.0.0.1:${port}`;
  const c = transcript.header.config;
  const finalCaPath = caPath;

  const configSnippet = (): string =>
    [
      `# ownersync.yaml for the replay of a ${transcript.header.command} transcript (recorded ${transcript.header.createdAt}) at ${base}`,
      `# (trust its CA: export NODE_EXTRA_CA_CERTS=${finalCaPath}; any credentials are accepted)`,
      'exchange:',
      `  tenantId: ${c.tenantId}`,
      ...(c.organization ? [`  organization: ${c.organization}`] : []),
      `  clientId: ${c.clientId}`,
      '  clientSecret: ${OWNERSYNC_CLIENT_SECRET}',
      `  environment: ${c.environment}`,
      `  authorityHost: ${base}`,
      `  adminApiUrl: ${base}`,
      ...(c.mailboxFilter !== undefined ? [`  mailboxFilter: ${yamlString(c.mailboxFilter)}`] : []),
      `  expandGroups: ${c.expandGroups}`,
      'helloid:',
      `  baseUrl: ${base}`,
      '  apiKey: ${HELLOID_API_KEY}',
      '  apiSecret: ${HELLOID_API_SECRET}',
      'sync:',
      `  groupSource: ${yamlString(c.groupSource)}`,
      `  groupPrefix: ${yamlString(c.groupPrefix)}`,
      `  groupSuffix: ${yamlString(c.groupSuffix)}`,
      `  removeMembers: ${c.removeMembers}`,
      `  protectedUsers: [${c.protectedUsers.map(yamlString).join(', ')}]`,
      '  limits:',
      `    maxRemovals: ${c.limits.maxRemovals}`,
      `    maxRemovalPercent: ${c.limits.maxRemovalPercent}`,
      `    allowEmptyingGroups: ${c.limits.allowEmptyingGroups}`,
      '',
    ].join('\n');

  let stopped = false;
  return {
    url: base,
    port,
    caPath: finalCaPath,
    caPem: tls.caPem,
    config: c,
    transcript,
    configSnippet,
    env: () => ({
      OWNERSYNC_CLIENT_SECRET: 'replay-accepts-any-secret',
      HELLOID_API_KEY: 'replay-accepts-any-key',
      HELLOID_API_SECRET: 'replay-accepts-any-secret',
      NODE_EXTRA_CA_CERTS: finalCaPath,
    }),
    misses: () => [...misses],
    served: () => served,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
      await closed;
      if (tempDir) await rm(tempDir, { recursive: true, force: true });
    },
  };
}

