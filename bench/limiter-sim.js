#!/usr/bin/env node
/**
 * The adaptive concurrency limiter (dist/http/limiter.js) against a simulated service,
 * in virtual time: a hard concurrency limit C (a request arriving while C are in flight
 * is refused at once with a 429 and Retry-After), a fixed latency, and optionally a
 * share of random 429s at any concurrency. N requests are queued up front, as the
 * member reads of a plan are. Shows why the read clients use 'probe' mode starting at
 * 8 rather than 'halve' mode (from 8 or from 16): no wall clock, so the figures are
 * the same on any machine.
 *
 *   npm run build && node bench/limiter-sim.js            # the comparison table
 *   node bench/limiter-sim.js C N MODE INITIAL MAX [P]     # one case
 */
import { AdaptiveLimiter } from '../dist/http/limiter.js';

const LATENCY = 40;
const RETRY_AFTER = 1000;

/** mulberry32, for the random 429s. */
function prng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function simulate({ cap, n, mode, initial, max, randomRate = 0 }) {
  const limiter = new AdaptiveLimiter({ max, initial, mode, increaseAfter: 10 });
  const random = prng(7);
  // A tiny discrete-event loop: timers fire in time order; promise callbacks run in between.
  const timers = [];
  let now = 0;
  const sleep = (ms) => new Promise((resolve) => timers.push({ at: now + ms, resolve }));
  let inService = 0;
  let refused = 0;
  let randomRefused = 0;
  let sum = 0;
  let samples = 0;
  const one = async () => {
    for (;;) {
      const permit = await limiter.acquire();
      if (inService >= cap) {
        refused++;
        await sleep(1);
        limiter.release(permit, 'throttled');
        await sleep(RETRY_AFTER);
        continue;
      }
      inService++;
      await sleep(LATENCY);
      inService--;
      if (randomRate > 0 && random() < randomRate) {
        randomRefused++;
        limiter.release(permit, 'throttled');
        await sleep(RETRY_AFTER);
        continue;
      }
      limiter.release(permit, 'success');
      return;
    }
  };
  let finished = false;
  void Promise.all(Array.from({ length: n }, one)).then(() => (finished = true));
  while (!finished) {
    await new Promise((r) => setImmediate(r));
    if (finished || timers.length === 0) continue;
    timers.sort((a, b) => a.at - b.at);
    const t = timers.shift();
    now = t.at;
    t.resolve();
    sum += limiter.limit;
    samples++;
  }
  return { seconds: now / 1000, ideal: ((n / cap) * LATENCY) / 1000, refused, randomRefused, finalLimit: limiter.limit, minLimit: limiter.minLimit, meanLimit: sum / samples };
}

function row(c, r) {
  const name = `${c.mode} from ${c.initial}${c.max !== c.initial ? ` (max ${c.max})` : ''}${c.randomRate ? `, ${c.randomRate * 100}% random 429s` : ''}`;
  return `| ${name} | ${r.seconds.toFixed(2)} s | ${(r.seconds / r.ideal).toFixed(2)}× | ${r.refused} | ${r.finalLimit} | ${r.minLimit} |`;
}

const args = process.argv.slice(2);
if (args.length >= 5) {
  const [cap, n, mode, initial, max, p] = args;
  const c = { cap: Number(cap), n: Number(n), mode, initial: Number(initial), max: Number(max), randomRate: Number(p ?? 0) };
  process.stdout.write(`${JSON.stringify({ ...c, ...(await simulate(c)) })}\n`);
} else {
  const cases = [
    { mode: 'halve', initial: 8, max: 8 },
    { mode: 'halve', initial: 16, max: 16 },
    { mode: 'probe', initial: 8, max: 16 },
    { mode: 'probe', initial: 16, max: 16 },
    { mode: 'halve', initial: 8, max: 8, randomRate: 0.05 },
    { mode: 'probe', initial: 8, max: 16, randomRate: 0.05 },
  ];
  process.stdout.write(`C = 10, 5,000 requests queued, latency ${LATENCY} ms, Retry-After ${RETRY_AFTER / 1000} s (virtual time)\n\n`);
  process.stdout.write('| limiter | time | ÷ ideal | 429s from the limit | final limit | lowest limit |\n|---|---|---|---|---|---|\n');
  for (const c of cases) process.stdout.write(`${row(c, await simulate({ cap: 10, n: 5000, ...c }))}\n`);
}
