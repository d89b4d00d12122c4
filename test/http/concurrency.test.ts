/** Adaptive concurrency against a real server: the server counts what is in flight. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient, closeSharedDispatchers, type HttpEvent } from '../../src/http/index.js';
import { startServer, type TestServer } from './server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await closeSharedDispatchers();
  await server.close();
});

const fastSleep = async (): Promise<void> => {
  await new Promise((r) => setImmediate(r));
};

describe('adaptive concurrency', () => {
  it('never has more than maxConcurrency requests in flight at the server', async () => {
    server.reset();
    server.setHandler((_req, res) => {
      setTimeout(() => res.end('ok'), 10);
    });
    const c = new HttpClient({ service: 'helloid', caPem: server.caPem, maxConcurrency: 5 });
    await Promise.all(Array.from({ length: 40 }, (_, i) => c.request(`${server.url}/x/${i}`)));
    expect(server.count).toBe(40);
    expect(server.maxInFlight).toBeLessThanOrEqual(5);
    expect(c.stats().maxInFlight).toBe(5);
  });

  it('backs off on a 429 storm, down to one at a time, and recovers afterwards', async () => {
    server.reset();
    let seen = 0;
    const inFlightAtArrivalWhenLimitOne: number[] = [];
    const ref: { client?: HttpClient } = {};
    server.setHandler((_req, res) => {
      seen++;
      if (ref.client && ref.client.stats().concurrencyLimit === 1) inFlightAtArrivalWhenLimitOne.push(server.inFlight);
      if (seen <= 30) {
        res.writeHead(429, { 'retry-after': '0' });
        setTimeout(() => res.end(), 5);
        return;
      }
      setTimeout(() => res.end('ok'), 2);
    });
    const events: HttpEvent[] = [];
    const c = new HttpClient({
      service: 'exchange',
      caPem: server.caPem,
      maxConcurrency: 8,
      increaseAfter: 3,
      maxAttempts: 40,
      sleep: fastSleep,
      onEvent: (e) => events.push(e),
    });
    ref.client = c;
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => c.request(`${server.url}/y/${i}`)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const s = c.stats();
    expect(s.throttled).toBe(30);
    expect(s.minConcurrencyLimit).toBe(1);
    expect(s.concurrencyLimit).toBe(8);
    const limits = events.filter((e) => e.type === 'limit').map((e) => `${(e as { direction: string }).direction}:${(e as { limit: number }).limit}`);
    expect(limits.slice(0, 3)).toEqual(['decrease:4', 'decrease:2', 'decrease:1']);
    expect(limits.at(-1)).toBe('increase:8');
    // Once the limit is 1, requests reach the server one at a time (a straggler from
    // the previous window may still be finishing, hence ≤ 2).
    expect(inFlightAtArrivalWhenLimitOne.length).toBeGreaterThan(0);
    expect(Math.max(...inFlightAtArrivalWhenLimitOne)).toBeLessThanOrEqual(2);
  });

  it('holds no slot while a request waits out a Retry-After', async () => {
    // One slot. The first request is refused with Retry-After; its wait ends only once
    // the five others are done (or after 5 s, so a held slot fails the test rather
    // than hanging it). They can only be done first if the waiting request gave its
    // slot back (the next queued request takes it at once).
    server.reset();
    let refused = false;
    server.setHandler((req, res) => {
      if (req.url === '/throttled' && !refused) {
        refused = true;
        res.writeHead(429, { 'retry-after': '1' });
        res.end();
        return;
      }
      setTimeout(() => res.end('ok'), 5);
    });
    const done: string[] = [];
    let othersDone: () => void = () => {};
    const others = new Promise<void>((r) => (othersDone = r));
    const waited: number[] = [];
    const c = new HttpClient({
      service: 'helloid',
      caPem: server.caPem,
      maxConcurrency: 1,
      concurrencyMode: 'probe',
      sleep: async (ms) => {
        waited.push(ms);
        await Promise.race([others, new Promise((r) => setTimeout(r, 5_000))]);
      },
    });
    const track = (path: string): Promise<void> => c.request(`${server.url}${path}`).then(() => void done.push(path));
    const first = track('/throttled');
    const rest = Promise.all([1, 2, 3, 4, 5].map((i) => track(`/other/${i}`))).then(() => othersDone());
    await Promise.all([first, rest]);
    expect(waited).toEqual([1000]);
    expect(done).toEqual(['/other/1', '/other/2', '/other/3', '/other/4', '/other/5', '/throttled']);
    expect(c.stats().maxInFlight).toBe(1);
  });

  it('calls beforeFirstSend once, holding a slot, and sends nothing when it throws', async () => {
    server.reset();
    server.setHandler(sequenceOf429ThenOk());
    const c = new HttpClient({ service: 'helloid', caPem: server.caPem, maxConcurrency: 1, sleep: async () => {} });
    const calls: number[] = [];
    await c.request(`${server.url}/hooked`, { beforeFirstSend: () => void calls.push(c.stats().inFlight) });
    // Called once although the request was sent twice (429, then 200), with its slot held.
    expect(calls).toEqual([1]);
    expect(server.count).toBe(2);

    await expect(c.request(`${server.url}/refused`, { beforeFirstSend: () => Promise.reject(new Error('journal full')) })).rejects.toThrow('journal full');
    expect(server.count).toBe(2);
    expect(c.stats().inFlight).toBe(0);
  });
});

/** The first request gets 429 (Retry-After: 0), every later one 200. */
function sequenceOf429ThenOk(): Parameters<TestServer['setHandler']>[0] {
  let first = true;
  return (_req, res) => {
    if (first) {
      first = false;
      res.writeHead(429, { 'retry-after': '0' });
      res.end();
      return;
    }
    res.end('ok');
  };
}
