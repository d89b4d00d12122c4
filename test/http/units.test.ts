/** Pure pieces of the HTTP layer: Retry-After parsing, backoff, safe URLs, the AIMD limiter. */
import { afterEach, describe, expect, it } from 'vitest';
import { AdaptiveLimiter, backoffDelay, parseRetryAfter, retryAfterMs, safeUrl } from '../../src/http/index.js';
import { clearSecrets, registerSecret } from '../../src/redact.js';

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  it.each([
    ['2', 2000],
    ['0', 0],
    ['0.5', 500],
    [' 1.25 ', 1250],
    ['Wed, 01 Jan 2025 00:00:10 GMT', 10_000],
    ['Tue, 31 Dec 2024 23:59:00 GMT', 0],
    ['', undefined],
    ['soon', undefined],
    ['-1', undefined],
    ['1e3', undefined],
  ])('%j → %j', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
  it('prefers retry-after-ms', () => {
    expect(retryAfterMs({ 'retry-after': '5', 'retry-after-ms': '1500' }, now)).toBe(1500);
    expect(retryAfterMs({ 'x-ms-retry-after-ms': '20' }, now)).toBe(20);
    expect(retryAfterMs({}, now)).toBeUndefined();
  });
});

describe('backoffDelay', () => {
  it('is full jitter under an exponential cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, 1000, 10_000, () => 0.999999))).toEqual([999, 1999, 3999, 7999, 9999, 9999]);
    expect(backoffDelay(3, 1000, 10_000, () => 0)).toBe(0);
  });
});

describe('safeUrl', () => {
  afterEach(() => clearSecrets());
  it('drops user-info and credential parameters, keeps the rest verbatim', () => {
    expect(safeUrl('https://u:p@h.example/a/b?client_secret=x&take=10&skip=0&$skiptoken=AB%2BC&sig=zz&Password=q')).toBe(
      'https://h.example/a/b?client_secret=***&take=10&skip=0&$skiptoken=AB%2BC&sig=***&Password=***',
    );
  });
  it('redacts registered secrets anywhere', () => {
    registerSecret('tenant-secret-1');
    expect(safeUrl('https://h.example/tenant-secret-1/x')).toBe('https://h.example/***/x');
  });
  it('survives garbage', () => {
    expect(safeUrl('not a url')).toBe('not a url');
  });

  it('shortens an OData $select list, which only lengthens the message', () => {
    expect(safeUrl('https://h.example/adminapi/beta/t/InvokeCommand?$select=Guid,Name,DisplayName&$skiptoken=AB')).toBe('https://h.example/adminapi/beta/t/InvokeCommand?$select=…&$skiptoken=AB');
    expect(safeUrl('https://h.example/x?%24select=a,b')).toBe('https://h.example/x?%24select=…');
  });
});

describe('AdaptiveLimiter', () => {
  it('gates at the limit, halves once per congestion window, and grows back', async () => {
    const changes: string[] = [];
    const l = new AdaptiveLimiter({ max: 8, increaseAfter: 2, onChange: (n, d) => changes.push(`${d}:${n}`) });
    const first = await Promise.all(Array.from({ length: 8 }, () => l.acquire()));
    expect(l.inFlight).toBe(8);
    let ninth = false;
    const pending = l.acquire().then((p) => {
      ninth = true;
      return p;
    });
    await Promise.resolve();
    expect(ninth).toBe(false);

    // Eight 429s from the same window: one halving, not three.
    for (const p of first) l.release(p, 'throttled');
    expect(l.limit).toBe(4);
    expect(changes).toEqual(['decrease:4']);
    const p9 = await pending;
    expect(l.inFlight).toBe(1);

    // A 429 on a permit granted after the decrease halves again.
    l.release(p9, 'throttled');
    expect(l.limit).toBe(2);
    const a = await l.acquire();
    l.release(a, 'throttled');
    expect(l.limit).toBe(1);
    const b = await l.acquire();
    l.release(b, 'throttled');
    expect(l.limit).toBe(1); // never below 1
    expect(l.minLimit).toBe(1);

    // Only one at a time now.
    const c = await l.acquire();
    let second = false;
    const d = l.acquire().then((p) => {
      second = true;
      return p;
    });
    await Promise.resolve();
    expect(second).toBe(false);
    l.release(c, 'success');
    l.release(await d, 'success'); // 2 successes → 2
    expect(l.limit).toBe(2);
    for (let i = 0; i < 20; i++) l.release(await l.acquire(), 'success');
    expect(l.limit).toBe(8);
    expect(changes.at(-1)).toBe('increase:8');
    expect(l.maxInFlight).toBe(8);
  });

  it('neutral outcomes neither grow nor shrink', async () => {
    const l = new AdaptiveLimiter({ max: 4, increaseAfter: 1 });
    l.release(await l.acquire(), 'throttled');
    expect(l.limit).toBe(2);
    l.release(await l.acquire(), 'neutral');
    expect(l.limit).toBe(2);
  });

  it('lets a waiting acquire be aborted', async () => {
    const l = new AdaptiveLimiter({ max: 1 });
    const held = await l.acquire();
    const ac = new AbortController();
    const waiting = l.acquire(ac.signal);
    ac.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    l.release(held, 'success');
    expect(l.inFlight).toBe(0);
  });
});
