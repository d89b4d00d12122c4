/**
 * The one HTTPS server behind the emulator: routes by path to Entra ID, the Exchange
 * admin API, HelloID or the control endpoints, and runs every service request through
 * the fault pipeline (concurrency limit → reset → hang → latency → random failure →
 * targeted error → handler) while counting it. Control requests bypass faults and
 * stats, so a test can always observe and steer.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { handleControl, type ControlApi } from './control.js';
import { matchEntra } from './entra.js';
import {
  checkBearer,
  exchangeFaultReply,
  invoke,
  TRANSIENT_EXCEPTIONS,
  transientError,
  matchExchange,
  parseBatch,
  peekInvoke,
  runBatch,
  type CmdletRef,
} from './exchange.js';
import { checkBasic, helloIdNotFound, helloidFaultReply, matchHelloId } from './helloid.js';
import { readBody, writeReply, type Ctx, type Env, type Reply } from './http-util.js';
import { Prng, ruleMatches, type RuleSubject } from './faults.js';
import type { FaultRule, Faults, LogEntry, Service } from './types.js';

const BODY_LIMIT = 16 * 1024 * 1024;

function entraFaultReply(status: number, faults: Faults): Reply {
  const headers: Record<string, string> = {};
  if (status === 429 || status === 503) headers['Retry-After'] = String(faults.retryAfterSeconds);
  const code = status === 429 ? 50196 : 90033;
  return {
    status,
    headers,
    json: {
      error: 'temporarily_unavailable',
      error_description: `AADSTS${code}: The service is temporarily unavailable (injected fault, HTTP ${status}).`,
      error_codes: [code],
    },
  };
}

export interface ServerDeps {
  env: Env;
  control: ControlApi;
  tls: { key: string; cert: string };
}

export class EmulatorServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly waits = new Set<() => void>();
  private prng: Prng;
  private prngSeed: number;
  port = 0;

  constructor(private readonly deps: ServerDeps) {
    this.prngSeed = deps.env.faults().seed;
    this.prng = new Prng(this.prngSeed);
    this.server = createServer({ key: deps.tls.key, cert: deps.tls.cert, keepAliveTimeout: 5_000 }, (req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        writeReply(res, { status: 500, json: { message: `emulator bug: ${(e as Error).message}` } });
      });
    });
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    // A reset fault destroys sockets mid-request; that must not surface as a server error.
    this.server.on('tlsClientError', () => undefined);
  }

  listen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        const addr = this.server.address();
        this.port = typeof addr === 'object' && addr ? addr.port : port;
        resolve(this.port);
      });
    });
  }

  async close(): Promise<void> {
    for (const w of this.waits) w();
    this.waits.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  /** Called after faults change: a seed that is set (even to the same value) restarts the random sequence. */
  faultsChanged(f: Faults, seedGiven: boolean): void {
    if (seedGiven || f.seed !== this.prngSeed) {
      this.prngSeed = f.seed;
      this.prng = new Prng(f.seed);
    }
  }

  /** Wait `ms`, ending early when the client goes away or the server stops. Resolves true if it waited fully. */
  private wait(ms: number, res: ServerResponse): Promise<boolean> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (full: boolean): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        res.off('close', onClose);
        this.waits.delete(stop);
        resolve(full);
      };
      const onClose = (): void => finish(false);
      const stop = (): void => finish(false);
      const timer = setTimeout(() => finish(true), ms);
      res.on('close', onClose);
      this.waits.add(stop);
    });
  }

  private firstRule(subject: RuleSubject, action: FaultRule['action'], filter?: (r: FaultRule) => boolean): FaultRule | undefined {
    const { env } = this.deps;
    return env.faults().rules.find((r) => r.action === action && (!filter || filter(r)) && ruleMatches(r, subject, env.sameIdentity));
  }

  private static consume(rule: FaultRule): void {
    if (rule.times !== undefined) rule.times--;
  }

  private faultReply(service: Service, status: number, exception?: string): Reply {
    const f = this.deps.env.faults();
    if (service === 'exchange') return exchangeFaultReply(status, f, exception);
    if (service === 'helloid') return helloidFaultReply(this.deps.env, status, f);
    return entraFaultReply(status, f);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { env } = this.deps;
    const t0 = performance.now();
    let body: Buffer;
    try {
      body = await readBody(req, BODY_LIMIT);
    } catch {
      writeReply(res, { status: 413, json: { message: 'request body too large' } });
      return;
    }
    const host = req.headers.host ?? `127.0.0.1:${this.port}`;
    let url: URL;
    try {
      url = new URL(req.url ?? '/', `https://${host}`);
    } catch {
      writeReply(res, { status: 400, json: { message: 'bad request URL' } });
      return;
    }
    const method = (req.method ?? 'GET').toUpperCase();
    const ctx: Ctx = {
      req,
      method,
      url,
      path: url.pathname,
      body,
      baseUrl: `https://${host}`,
      header: (name) => {
        const v = req.headers[name.toLowerCase()];
        return Array.isArray(v) ? v.join(', ') : v;
      },
    };

    if (url.pathname === '/_emulator' || url.pathname.startsWith('/_emulator/')) {
      writeReply(res, handleControl(ctx, env, this.deps.control));
      return;
    }

    // ---- classify and prepare (nothing is executed yet)
    let service: Service;
    let route: string;
    let refs: CmdletRef[] = [];
    let logCmdlet: string | undefined;
    let exec: () => Reply;
    let isBatch = false;
    if (url.pathname.startsWith('/adminapi/')) {
      service = 'exchange';
      const r = matchExchange(url.pathname);
      route = r.route;
      if (r.kind === 'invoke') {
        const ref = peekInvoke(body);
        if (ref) refs = [ref];
        logCmdlet = ref?.cmdlet;
        exec = () =>
          method !== 'POST'
            ? { status: 405, json: { error: { code: 'MethodNotAllowed', message: 'InvokeCommand accepts POST only.', details: [] } } }
            : (checkBearer(ctx, env, r.tenant) ??
              invoke(env, { tenantSeg: r.tenant, baseUrl: ctx.baseUrl, prefer: ctx.header('prefer'), body: safeParse(body), skiptoken: url.searchParams.get('$skiptoken'), select: url.searchParams.get('$select') }));
      } else if (r.kind === 'batch') {
        isBatch = true;
        const parsed = parseBatch(body);
        if (parsed.ok) refs = parsed.subs.flatMap((s) => (s.ref ? [s.ref] : []));
        exec = () => {
          if (method !== 'POST') return { status: 405, json: { error: { code: 'MethodNotAllowed', message: '$batch accepts POST only.', details: [] } } };
          const denied = checkBearer(ctx, env, r.tenant);
          if (denied) return denied;
          if (!parsed.ok) return parsed.reply;
          return runBatch(env, ctx, r.tenant, parsed.subs, (ref) => {
            const rule = this.firstRule({ service, method, path: url.pathname, cmdlets: [ref] }, 'error', (x) => Boolean(x.cmdlet || x.identity));
            if (!rule) return undefined;
            EmulatorServer.consume(rule);
            return this.faultReply('exchange', ruleStatus(rule), rule.exception);
          });
        };
      } else {
        exec = () => ({ status: 404, json: { error: { code: 'NotFound', message: `No admin API resource at ${url.pathname}.`, details: [] } } });
      }
    } else if (url.pathname.startsWith('/api/')) {
      service = 'helloid';
      const r = matchHelloId(method, url.pathname);
      route = r?.route ?? '/api/*';
      exec = () => checkBasic(ctx, env) ?? (r ? r.handle(ctx, env) : helloIdNotFound(env, ctx));
    } else {
      service = 'entra';
      const r = matchEntra(method, url.pathname);
      route = r?.route ?? '/*';
      exec = () => (r ? r.handle(ctx, env) : { status: 404, json: { error: 'not_found', error_description: `No Entra ID endpoint at ${url.pathname}.` } });
    }

    const faults = env.faults();
    const subject: RuleSubject = { service, method, path: url.pathname + url.search, cmdlets: refs };
    const identity = refs.length === 1 && !isBatch ? refs[0]!.identity : undefined;
    const log = (status: number, fault?: string): void => {
      const e: LogEntry = {
        at: new Date().toISOString(),
        method,
        path: url.pathname + url.search,
        service,
        route,
        status,
        ms: Math.round((performance.now() - t0) * 10) / 10,
      };
      if (logCmdlet) e.cmdlet = logCmdlet;
      if (identity) e.identity = identity;
      if (fault) e.fault = fault;
      env.stats.record(e);
    };

    // ---- concurrency limit
    const limit = faults.concurrency[service];
    if (limit && env.stats.inFlight(service) >= limit) {
      const reply = this.faultReply(service, 429);
      writeReply(res, reply);
      log(429, 'concurrency');
      return;
    }

    env.stats.enter(service);
    let fault: string | undefined;
    let status = 0;
    try {
      // ---- connection reset
      const random = faults.randomServices.includes(service);
      const resetRule = this.firstRule(subject, 'reset');
      if (resetRule || (random && faults.resetRate > 0 && this.prng.next() < faults.resetRate)) {
        if (resetRule) EmulatorServer.consume(resetRule);
        req.socket.destroy();
        log(0, 'reset');
        return;
      }
      // ---- hang
      const hangRule = this.firstRule(subject, 'hang');
      if (hangRule) {
        EmulatorServer.consume(hangRule);
        fault = 'hang';
        if (!(await this.wait(hangRule.hangMs ?? faults.hangMs, res))) {
          log(0, 'hang');
          return;
        }
      }
      // ---- latency
      const latency = faults.latencyMs + (faults.serviceLatencyMs[service] ?? 0);
      if (latency > 0 && !(await this.wait(latency, res))) {
        log(0, fault ?? 'client-gone');
        return;
      }
      // ---- random failure, targeted error, or the real thing
      let reply: Reply;
      if (service === 'exchange' && random && faults.transientRate > 0 && this.prng.next() < faults.transientRate) {
        // "Busy" as the admin API says it: a 400 with a transient exception type.
        reply = transientError(TRANSIENT_EXCEPTIONS[Math.floor(this.prng.next() * TRANSIENT_EXCEPTIONS.length)]![0]);
        fault = 'transient';
      } else if (random && faults.randomFailRate > 0 && faults.randomFailStatuses.length > 0 && this.prng.next() < faults.randomFailRate) {
        const st = faults.randomFailStatuses[Math.floor(this.prng.next() * faults.randomFailStatuses.length)]!;
        reply = this.faultReply(service, st);
        fault = 'random';
      } else {
        // For $batch, rules naming a cmdlet or identity act per sub-request (inside runBatch).
        const errRule = this.firstRule(subject, 'error', (r) => !isBatch || !(r.cmdlet || r.identity));
        if (errRule) {
          EmulatorServer.consume(errRule);
          reply = this.faultReply(service, ruleStatus(errRule), errRule.exception);
          fault = 'rule';
        } else {
          reply = exec();
        }
      }
      if (service === 'exchange' && env.options.exchange.rateLimitHeaders) {
        const inFlight = env.stats.inFlight('exchange');
        reply.headers = {
          ...reply.headers,
          'X-Concurrencycount': String(inFlight),
          'Rate-Limit-Remaining': String(limit ? Math.max(0, limit - inFlight) : 100),
        };
      }
      status = reply.status;
      writeReply(res, reply);
    } finally {
      env.stats.leave(service);
    }
    log(status, fault);
  }
}

function safeParse(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** A rule's status: as given, else 400 for an Exchange exception rule, else 500. */
function ruleStatus(rule: FaultRule): number {
  return rule.status ?? (rule.exception !== undefined ? 400 : 500);
}
