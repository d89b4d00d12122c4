/**
 * The small HTTP vocabulary the emulator's services share: a parsed request context,
 * a `Reply` value (handlers return replies instead of writing to the socket, so a
 * $batch can run InvokeCommand sub-requests through the very same code), and the
 * writer that puts a reply on the wire.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StatsCollector } from './stats.js';
import type { TenantModel } from './model.js';
import type { EmulatorOptions, Faults } from './types.js';
import type { TokenService } from './entra.js';
import type { PageStore } from './exchange.js';

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** JSON body; omitted (with `text`) means an empty body. */
  json?: unknown;
  text?: string;
}

export interface Ctx {
  req: IncomingMessage;
  method: string;
  url: URL;
  /** Decoded path segments are taken from this (raw, still percent-encoded). */
  path: string;
  body: Buffer;
  /** `https://<Host header>`: links point back at whatever host the client used. */
  baseUrl: string;
  header(name: string): string | undefined;
}

/** Everything handlers need, owned by the server. */
export interface Env {
  model: TenantModel;
  options: EmulatorOptions;
  faults(): Faults;
  tokens: TokenService;
  pages: PageStore;
  stats: StatsCollector;
  /** Whether two Exchange identities denote the same recipient. */
  sameIdentity(a: string, b: string): boolean;
}

export function jsonReply(status: number, json: unknown, headers?: Record<string, string>): Reply {
  return { status, json, headers };
}

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function writeReply(res: ServerResponse, reply: Reply, contentType = 'application/json; charset=utf-8'): void {
  if (res.destroyed || res.headersSent) return;
  let payload: Buffer | undefined;
  const headers: Record<string, string> = { ...reply.headers };
  if (reply.json !== undefined) {
    payload = Buffer.from(JSON.stringify(reply.json), 'utf8');
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = contentType;
  } else if (reply.text !== undefined) {
    payload = Buffer.from(reply.text, 'utf8');
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = 'text/plain; charset=utf-8';
  }
  headers['Content-Length'] = String(payload?.length ?? 0);
  res.writeHead(reply.status, headers);
  res.end(payload);
}

/** Split a path into decoded segments; undefined when a segment is not valid percent-encoding. */
export function segments(path: string): string[] | undefined {
  try {
    return path.split('/').filter((s) => s.length > 0).map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}

export function safeJson(buf: Buffer): { ok: true; value: unknown } | { ok: false } {
  if (buf.length === 0) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(buf.toString('utf8')) as unknown };
  } catch {
    return { ok: false };
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Case-insensitive property read (HelloID binds JSON case-insensitively). */
export function getCi(o: Record<string, unknown>, name: string): unknown {
  if (name in o) return o[name];
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(o)) if (k.toLowerCase() === lower) return v;
  return undefined;
}
