/**
 * HttpClient against a real local HTTPS server: retries, Retry-After, backoff,
 * network resets, timeouts, give-up messages and secret hygiene.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient, HttpError, closeSharedDispatchers, type HttpClientOptions, type HttpEvent } from '../../src/http/index.js';
import { clearSecrets, registerSecret } from '../../src/redact.js';
import { startServer, type TestServer } from './server.js';

let server: TestServer;
let sleeps: number[];

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await closeSharedDispatchers();
  await server.close();
});
afterEach(() => {
  server.reset();
  clearSecrets();
});

function client(extra: Partial<HttpClientOptions> = {}): HttpClient {
  sleeps = [];
  return new HttpClient({
    service: 'exchange',
    caPem: server.caPem,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...extra,
  });
}

/** Handler that answers with the given steps in turn, then 200 "ok". */
function sequence(steps: Array<{ status: number; headers?: Record<string, string>; body?: string } | 'reset'>) {
  let i = 0;
  return (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    const step = steps[i++];
    if (step === undefined) {
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
      return;
    }
    if (step === 'reset') {
      req.socket.destroy();
      return;
    }
    res.writeHead(step.status, step.headers ?? {});
    res.end(step.body ?? '');
  };
}

describe('Retry-After', () => {
  it('waits the whole seconds asked for', async () => {
    server.setHandler(sequence([{ status: 429, headers: { 'retry-after': '2' } }]));
    const res = await client().request(`${server.url}/a`);
    expect(res.status).toBe(200);
    expect(res.attempts).toBe(2);
    expect(sleeps).toEqual([2000]);
  });

  it('accepts fractional seconds', async () => {
    server.setHandler(sequence([{ status: 429, headers: { 'retry-after': '0.25' } }, { status: 429, headers: { 'retry-after': '1.5' } }]));
    await client().request(`${server.url}/a`);
    expect(sleeps).toEqual([250, 1500]);
  });

  it('accepts an HTTP date', async () => {
    const at = new Date(Date.now() + 5000).toUTCString();
    server.setHandler(sequence([{ status: 503, headers: { 'retry-after': at } }]));
    await client().request(`${server.url}/a`);
    expect(sleeps).toHaveLength(1);
    // HTTP dates have one-second resolution.
    expect(sleeps[0]).toBeGreaterThan(3000);
    expect(sleeps[0]).toBeLessThanOrEqual(5000);
  });

  it('caps a very long Retry-After', async () => {
    server.setHandler(sequence([{ status: 429, headers: { 'retry-after': '3600' } }]));
    await client({ maxRetryAfterMs: 7000 }).request(`${server.url}/a`);
    expect(sleeps).toEqual([7000]);
  });

  it('ignores an unparsable Retry-After and backs off instead', async () => {
    server.setHandler(sequence([{ status: 429, headers: { 'retry-after': 'soon' } }]));
    await client({ retryBaseDelayMs: 1000 }).request(`${server.url}/a`);
    expect(sleeps).toEqual([500]);
  });
});

describe('backoff and retries', () => {
  it('backs off exponentially with full jitter on 503/504/502/500', async () => {
    server.setHandler(sequence([{ status: 503 }, { status: 504 }, { status: 502 }, { status: 500 }]));
    const res = await client({ retryBaseDelayMs: 100, retryMaxDelayMs: 350, random: () => 0.999999 }).request(`${server.url}/b`);
    expect(res.attempts).toBe(5);
    expect(server.count).toBe(5);
    // floor(random × min(max, base × 2^n)): 99, 199, 349 (capped), 349
    expect(sleeps).toEqual([99, 199, 349, 349]);
  });

  it('retries a connection reset', async () => {
    server.setHandler(sequence(['reset', 'reset']));
    const res = await client().request(`${server.url}/c`);
    expect(res.status).toBe(200);
    expect(res.attempts).toBe(3);
    expect(sleeps).toHaveLength(2);
  });

  it('retries POST with the same body', async () => {
    server.setHandler(sequence([{ status: 503 }]));
    const res = await client().request(`${server.url}/p`, { method: 'POST', json: { a: 1 } });
    expect(res.json()).toEqual({ ok: true });
    expect(server.log.map((l) => l.body)).toEqual(['{"a":1}', '{"a":1}']);
    expect(server.log[1]?.headers['content-type']).toBe('application/json');
  });

  it('does not retry a 404 and names method, URL and status', async () => {
    server.setHandler(sequence([{ status: 404, body: '{"message":"Group not found"}' }]));
    const err = await client()
      .request(`${server.url}/api/v1/groups/x?skip=0&take=10`)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).message).toBe(
      `GET ${server.url}/api/v1/groups/x?skip=0&take=10 failed: 404 Not Found — response: {"message":"Group not found"}`,
    );
    expect((err as HttpError).status).toBe(404);
    expect((err as HttpError).responseBody).toBe('{"message":"Group not found"}');
    expect(server.count).toBe(1);
  });

  it('returns accepted statuses instead of throwing', async () => {
    server.setHandler(sequence([{ status: 404, body: 'nope' }]));
    const res = await client().request(`${server.url}/d`, { method: 'DELETE', acceptStatuses: [404] });
    expect(res.status).toBe(404);
    expect(res.text).toBe('nope');
  });

  it('lets a call choose its retryable statuses', async () => {
    server.setHandler(sequence([{ status: 500 }]));
    await expect(client().request(`${server.url}/e`, { retryStatuses: [429] })).rejects.toThrow(/500 Internal Server Error$/);
    expect(server.count).toBe(1);
  });

  it('gives up after maxAttempts with method, URL, label and attempts in the message', async () => {
    server.setHandler((_req, res) => {
      res.statusCode = 500;
      res.end();
    });
    const err = (await client()
      .request(`${server.url}/adminapi/beta/t1/InvokeCommand`, { method: 'POST', label: 'Get-MailboxPermission', json: {} })
      .catch((e: unknown) => e)) as HttpError;
    expect(err).toBeInstanceOf(HttpError);
    expect(err.message).toBe(
      `POST ${server.url}/adminapi/beta/t1/InvokeCommand (Get-MailboxPermission) failed: 500 Internal Server Error after 6 attempts`,
    );
    expect(err.attempts).toBe(6);
    expect(err.exitCode).toBe(1);
    expect(server.count).toBe(6);
    expect(sleeps).toHaveLength(5);
  });

  it('gives up on persistent resets with the error code', async () => {
    server.setHandler((req) => {
      req.socket.destroy();
    });
    const err = (await client({ maxAttempts: 3 })
      .request(`${server.url}/f`)
      .catch((e: unknown) => e)) as HttpError;
    expect(err).toBeInstanceOf(HttpError);
    expect(err.message).toMatch(new RegExp(`^GET ${server.url}/f failed: .+ after 3 attempts$`));
    expect(err.code).toBeTruthy();
    expect(server.count).toBe(3);
  });
});

describe('timeouts', () => {
  it('retries and then reports a headers timeout', async () => {
    server.setHandler(() => {
      /* never answer */
    });
    const err = (await client({ headersTimeoutMs: 150, maxAttempts: 2 })
      .request(`${server.url}/slow`)
      .catch((e: unknown) => e)) as HttpError;
    expect(err).toBeInstanceOf(HttpError);
    expect(err.message).toBe(`GET ${server.url}/slow failed: no response headers within 150 ms (UND_ERR_HEADERS_TIMEOUT) after 2 attempts`);
    expect(server.count).toBe(2);
  });

  it('reports a stalled body', async () => {
    server.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[');
    });
    const err = (await client({ bodyTimeoutMs: 150, maxAttempts: 1 })
      .request(`${server.url}/stall`)
      .catch((e: unknown) => e)) as HttpError;
    expect(err.message).toBe(`GET ${server.url}/stall failed: response body stalled for 150 ms (UND_ERR_BODY_TIMEOUT)`);
  });

  it('succeeds when a timed-out request works on retry', async () => {
    let n = 0;
    server.setHandler((_req, res) => {
      if (n++ === 0) return; // first one hangs
      res.end('fine');
    });
    // Long enough that the retry's own headers arrive in time on a loaded machine.
    const res = await client({ headersTimeoutMs: 500 }).request(`${server.url}/once-slow`);
    expect(res.text).toBe('fine');
    expect(res.attempts).toBe(2);
  });
});

describe('secrets never reach error messages', () => {
  it('strips URL credentials and credential query values, and never prints request headers or bodies', async () => {
    registerSecret('echoed-secret-value');
    server.setHandler((_req, res) => {
      res.statusCode = 400;
      res.end('{"error":"bad","echo":"echoed-secret-value"}');
    });
    const url = new URL(`${server.url}/token`);
    url.username = 'someuser';
    url.password = 'p4ssw0rd-in-url';
    url.search = '?client_secret=qs-secret&api_key=k3y&take=10&$skiptoken=abc';
    const err = (await client()
      .request(url, {
        method: 'POST',
        headers: { Authorization: 'Bearer header-token-xyz' },
        body: 'client_secret=body-secret',
      })
      .catch((e: unknown) => e)) as HttpError;
    expect(err).toBeInstanceOf(HttpError);
    const text = `${err.message} ${JSON.stringify(err)} ${err.url}`;
    for (const secret of ['p4ssw0rd-in-url', 'someuser', 'qs-secret', 'k3y', 'header-token-xyz', 'body-secret', 'echoed-secret-value']) {
      expect(text).not.toContain(secret);
    }
    expect(err.message).toContain(`POST ${server.url}/token?client_secret=***&api_key=***&take=10&$skiptoken=abc failed: 400 Bad Request`);
    expect(err.message).toContain('"echo":"***"');
    // The server did get the credentials (they were not stripped from the request itself).
    expect(server.log[0]?.headers.authorization).toBe('Bearer header-token-xyz');
  });
});

describe('events and stats', () => {
  it('reports requests, retries, 429s and in-flight maximum', async () => {
    const events: HttpEvent[] = [];
    server.setHandler(sequence([{ status: 429, headers: { 'retry-after': '0' } }, { status: 503 }]));
    const c = client({ onEvent: (e) => events.push(e) });
    await c.request(`${server.url}/g`, { label: 'Get-User' });
    const s = c.stats();
    expect(s).toMatchObject({ service: 'exchange', requests: 3, retries: 2, throttled: 1, serverErrors: 1, failures: 0, inFlight: 0, maxInFlight: 1 });
    expect(events.filter((e) => e.type === 'retry').map((e) => (e as { reason: string }).reason)).toEqual(['429', '503']);
    expect(events.find((e) => e.type === 'retry')).toMatchObject({ retryAfter: true, delayMs: 0, label: 'Get-User' });
  });

  it('survives a throwing event hook', async () => {
    server.setHandler(sequence([]));
    const c = client({
      onEvent: () => {
        throw new Error('boom');
      },
    });
    expect((await c.request(`${server.url}/h`)).status).toBe(200);
  });

  it('names invalid JSON with method and URL', async () => {
    server.setHandler((_req, res) => res.end('<html>'));
    const res = await client().request(`${server.url}/html`);
    expect(() => res.json()).toThrow(`GET ${server.url}/html failed: 200 response is not valid JSON`);
  });
});
