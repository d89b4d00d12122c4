/**
 * The limiter's 'probe' mode and request priorities: settling one below a hard
 * concurrency limit with few 429s, shrugging off stray 429s, backing off when 429s
 * become frequent, and listing pages going ahead of queued fan-out reads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdaptiveLimiter, HttpClient, closeSharedDispatchers, type Permit } from '../../src/http/index.js';
import { startServer, type TestServer } from './server.js';

/** Let pending promise callbacks run. */
const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

/**
 * Drive a limiter against a simulated service that admits `cap` requests at a time and
 * refuses any other at once, with `n` requests queued (as readMembers queues them).
 * Each round: what is in flight arrives, the first `cap` are admitted, the rest are
 * refused right away (and, being refused instantly, make room for the next queued
 * request, which is refused too while the service is full); then the admitted ones
 * complete. Returns the number of refusals and the limit after each round.
 */
async function driveAgainstCap(l: AdaptiveLimiter, cap: number, n: number): Promise<{ refused: number; limits: number[] }> {
  let refused = 0;
  let served = 0;
  const limits: number[] = [];
  const held: Permit[] = [];
  const request = (): void => void l.acquire().then((p) => held.push(p));
  for (let i = 0; i < n; i++) request();
  while (served < n) {
    await flush();
    const admitted = held.splice(0, cap);
    for (let guard = 0; held.length > 0 && guard < 1000; guard++) {
      for (const p of held.splice(0)) {
        l.release(p, 'throttled');
        refused++;
        request();
      }
      await flush();
    }
    expect(admitted.length).toBeGreaterThan(0);
    for (const p of admitted) {
      l.release(p, 'success');
      served++;
    }
    limits.push(l.limit);
  }
  return { refused, limits };
}

describe('AdaptiveLimiter priorities', () => {
  it('serves a high-priority waiter before earlier normal ones', async () => {
    const l = new AdaptiveLimiter({ max: 1 });
    const first = await l.acquire();
    const order: string[] = [];
    const a = l.acquire(undefined, 'normal').then((p) => (order.push('normal-1'), p));
    const b = l.acquire(undefined, 'normal').then((p) => (order.push('normal-2'), p));
    const c = l.acquire(undefined, 'high').then((p) => (order.push('high'), p));
    l.release(first, 'success');
    l.release(await c, 'success');
    l.release(await a, 'success');
    l.release(await b, 'success');
    expect(order).toEqual(['high', 'normal-1', 'normal-2']);
  });
});

describe("AdaptiveLimiter 'probe' mode", () => {
  it('starts at initial and grows only while requests wait', async () => {
    const l = new AdaptiveLimiter({ max: 16, initial: 4, mode: 'probe', increaseAfter: 2 });
    expect(l.limit).toBe(4);
    // One request at a time, nothing waiting: no evidence that more would help.
    for (let i = 0; i < 50; i++) l.release(await l.acquire(), 'success');
    expect(l.limit).toBe(4);
  });

  it('settles one below a hard limit, with a handful of refusals', async () => {
    const l = new AdaptiveLimiter({ max: 16, initial: 4, mode: 'probe', increaseAfter: 2, probeInterval: 20 });
    const { refused, limits } = await driveAgainstCap(l, 6, 1500);
    expect(Math.max(...limits)).toBeLessThanOrEqual(7);
    // Settled: at the limit nearly all the time, one above it only for a rare probe.
    const late = limits.slice(limits.length / 2);
    expect(late.filter((x) => x === 6).length / late.length).toBeGreaterThan(0.9);
    // Probes of the refused level get rarer (20, 40, 80 … successes apart).
    expect(refused).toBeLessThan(20);
  });

  it('comes down from a start above the hard limit without halving', async () => {
    const l = new AdaptiveLimiter({ max: 16, initial: 16, mode: 'probe', increaseAfter: 2, probeInterval: 50 });
    const { limits } = await driveAgainstCap(l, 10, 1000);
    // Down in steps of about 10% (halving would have gone to 8 and then 4).
    expect(l.minLimit).toBeGreaterThanOrEqual(9);
    const late = limits.slice(limits.length / 2);
    expect(late.filter((x) => x === 10).length / late.length).toBeGreaterThan(0.9);
  });

  it('ignores a stray 429 at a level that works, but backs off when 429s become frequent', async () => {
    const l = new AdaptiveLimiter({ max: 8, mode: 'probe' });
    for (let i = 0; i < 40; i++) l.release(await l.acquire(), 'success');
    l.release(await l.acquire(), 'throttled');
    expect(l.limit).toBe(8);
    // Now a run where every other request is refused.
    for (let i = 0; i < 40 && l.limit === 8; i++) {
      l.release(await l.acquire(), 'success');
      l.release(await l.acquire(), 'throttled');
    }
    expect(l.limit).toBe(7);
  });

  it('gives a slot above the proven level to a normal request, never to a listing page', async () => {
    const l = new AdaptiveLimiter({ max: 4, initial: 1, mode: 'probe', increaseAfter: 1 });
    // Grow to 2 (a probe level) while requests wait.
    const p1 = await l.acquire();
    const waiting = l.acquire();
    l.release(p1, 'success');
    const p2 = await waiting;
    const queued = l.acquire();
    l.release(p2, 'success');
    expect(l.limit).toBe(2);
    const p3 = await queued;
    // One slot is free, but it is a probe slot: the listing page waits, the fan-out read takes it.
    let highGot = false;
    const high = l.acquire(undefined, 'high').then((p) => ((highGot = true), p));
    await flush();
    expect(highGot).toBe(false);
    const normal = await l.acquire(undefined, 'normal');
    expect(l.inFlight).toBe(2);
    // The probe slot frees up: still not for the listing page.
    l.release(p3, 'success');
    await flush();
    expect(highGot).toBe(false);
    // A proven slot frees up: the listing page gets it.
    l.release(normal, 'success');
    await flush();
    expect(highGot).toBe(true);
    l.release(await high, 'success');
    expect(l.inFlight).toBe(0);
  });
});

describe("HttpClient with concurrencyMode 'probe' against a server that allows 3 in flight", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await closeSharedDispatchers();
    await server.close();
  });

  it('reads everything, settles at 3 and provokes few 429s', async () => {
    let inFlight = 0;
    server.setHandler((_req, res) => {
      if (inFlight >= 3) {
        res.writeHead(429, { 'retry-after': '0' });
        res.end();
        return;
      }
      inFlight++;
      setTimeout(() => {
        inFlight--;
        res.end('ok');
      }, 3);
    });
    const c = new HttpClient({
      service: 'helloid',
      caPem: server.caPem,
      maxConcurrency: 8,
      initialConcurrency: 2,
      concurrencyMode: 'probe',
      increaseAfter: 3,
      probeInterval: 30,
      maxAttempts: 10,
    });
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => c.request(`${server.url}/r/${i}`)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const s = c.stats();
    expect(s.concurrencyLimit).toBe(3);
    expect(s.failures).toBe(0);
    // Halving would have oscillated between 2 and 4 with a 429 every few dozen requests.
    expect(s.throttled).toBeLessThanOrEqual(15);
  });
});
