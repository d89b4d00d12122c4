/**
 * Adaptive concurrency limit per service. Exchange publishes no budget and HelloID no
 * rate limit, so the only way to run near a service's capacity is to probe it and
 * back off when it pushes back (429).
 *
 * Two ways to react, chosen per limiter:
 *
 *  - 'halve' (default; AIMD as in TCP congestion control): start at `initial`
 *    (default: the maximum), halve on a 429 (never below 1), add one back after
 *    `increaseAfter` consecutive successes.
 *  - 'probe': for services that refuse whatever is above some concurrency. Halving
 *    there is costly: a limit of 11 against a service that allows 10 drops to 5 and
 *    spends the next fifty requests climbing back, over and over. Instead:
 *      · the limit grows by one per `increaseAfter` successes, and only while requests
 *        are waiting for a slot (successes below the limit prove nothing about more);
 *      · a level above the highest proven one is a probe: a full window of successes
 *        there (at least `level`, at least 8) proves it; a 429 steps back below it at
 *        once, and a second 429 there marks it refused, to be tried again only after
 *        `probeInterval` successes, twice as many each time it is refused again. So
 *        the limit settles one below the refused level with a handful of 429s a run,
 *        and a stray 429 (any level gets one now and then) does not pin it down;
 *      · a 429 at a proven level lowers the limit (by one, or 10% when that is more)
 *        only when 429s have become frequent (15% of the last ~32 outcomes): the
 *        service has less room than before, and the lower level must be probed anew.
 *    Successes count since the last change of the limit, not in a row.
 * A burst of 429s from requests that were all in flight together is one congestion
 * signal, not twenty: each permit remembers the limiter's generation when it was
 * granted, and only a 429 on a permit granted after the latest decrease lowers the
 * limit again.
 *
 * Waiting requests are served first come, first served, except that 'high' priority
 * ones (the next page of a listing: a chain that cannot go faster than one request at
 * a time) go before 'normal' ones (fan-out reads), so a listing is not stuck behind
 * thousands of queued reads. In 'probe' mode a slot above the proven level goes to a
 * 'normal' request only, so a refused probe never delays a listing by its Retry-After.
 */

export type LimiterMode = 'halve' | 'probe';

/** 'probe': weight of the newest outcome in the running 429 share (about the last 32 outcomes). */
const RATE_WEIGHT = 1 / 32;
/** 'probe': a 429 at a proven level lowers the limit only when at least this share of recent outcomes were 429. */
const CONGESTION_RATE = 0.15;
/** 'probe': successes in a row at a probed level that prove it (at least the level itself), and refusals that refuse it. */
const PROBE_SUCCESSES = 8;
const PROBE_REFUSALS = 2;

export type Priority = 'high' | 'normal';

export interface LimiterOptions {
  /** Maximum concurrency (and the starting one unless `initial` is given). */
  max: number;
  /** Starting concurrency (1..max). @default max */
  initial?: number;
  /** Consecutive successes before the limit grows by one. @default 10 */
  increaseAfter?: number;
  /** How a 429 lowers the limit, see above. @default 'halve' */
  mode?: LimiterMode;
  /** 'probe' mode: successes (while requests wait) before a refused level is tried again; doubles each time it is refused again. @default 200 */
  probeInterval?: number;
  /** Told about every change of the limit. */
  onChange?: (limit: number, direction: 'decrease' | 'increase') => void;
}

export interface Permit {
  readonly generation: number;
  /** Permits held right after this one was granted, itself included. */
  readonly level?: number;
  /** Grant number (increasing). */
  readonly seq?: number;
}

export type Outcome = 'success' | 'throttled' | 'neutral';

interface Waiter {
  resolve: (p: Permit) => void;
  reject: (e: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

export class AdaptiveLimiter {
  readonly max: number;
  private readonly increaseAfter: number;
  private readonly mode: LimiterMode;
  private readonly baseProbeInterval: number;
  private readonly onChange: LimiterOptions['onChange'];
  private current: number;
  private active = 0;
  private peak = 0;
  private lowest: number;
  private successes = 0;
  private generation = 0;
  /** 'probe': highest level known to work (the starting limit counts as known). */
  private proven: number;
  /** 'probe': the level above `proven` under test, with its outcomes so far. */
  private probe: { level: number; successes: number; refusals: number; since: number } | undefined;
  private grants = 0;
  /** 'probe': whether the limit currently stands at the probed level (growth waits for the verdict). */
  private probeActive = false;
  /** 'probe': share of recent outcomes that were 429 (exponentially weighted). */
  private refusalRate = 0;
  /** 'probe': lowest level refused on a probe, until a probe at or above it works. */
  private refused = Number.POSITIVE_INFINITY;
  private probeInterval: number;
  private readonly high: Waiter[] = [];
  private readonly normal: Waiter[] = [];

  constructor(options: LimiterOptions) {
    this.max = Math.max(1, Math.floor(options.max));
    this.increaseAfter = Math.max(1, Math.floor(options.increaseAfter ?? 10));
    this.mode = options.mode ?? 'halve';
    this.baseProbeInterval = Math.max(1, Math.floor(options.probeInterval ?? 200));
    this.probeInterval = this.baseProbeInterval;
    this.onChange = options.onChange;
    this.current = Math.min(this.max, Math.max(1, Math.floor(options.initial ?? this.max)));
    this.lowest = this.current;
    this.proven = this.current;
  }

  /** The current concurrency limit. */
  get limit(): number {
    return this.current;
  }
  /** Permits currently held. */
  get inFlight(): number {
    return this.active;
  }
  /** Most permits ever held at once. */
  get maxInFlight(): number {
    return this.peak;
  }
  /** Lowest limit reached so far. */
  get minLimit(): number {
    return this.lowest;
  }
  /** Requests waiting for a slot. */
  get waiting(): number {
    return this.high.length + this.normal.length;
  }

  /** Wait for a free slot. */
  acquire(signal?: AbortSignal, priority: Priority = 'normal'): Promise<Permit> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.waiting === 0 && this.mayGrant(priority)) return Promise.resolve(this.grant());
    return new Promise<Permit>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject };
      const queue = priority === 'high' ? this.high : this.normal;
      if (signal) {
        waiter.signal = signal;
        waiter.onAbort = () => {
          const i = queue.indexOf(waiter);
          if (i !== -1) queue.splice(i, 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      queue.push(waiter);
      // A slot held back from a listing page (see mayGrant) may suit this request.
      this.drain();
    });
  }

  /** Return a slot, saying how the request went so the limit can adapt. */
  release(permit: Permit, outcome: Outcome): void {
    this.active--;
    if (this.mode === 'probe') this.adaptProbe(permit, outcome);
    else this.adaptHalve(permit, outcome);
    this.drain();
  }

  private adaptHalve(permit: Permit, outcome: Outcome): void {
    if (outcome === 'throttled') {
      this.successes = 0;
      if (permit.generation === this.generation && this.current > 1) this.decrease(Math.floor(this.current / 2));
    } else if (outcome === 'success') {
      this.successes++;
      if (this.successes >= this.increaseAfter && this.current < this.max) {
        this.successes = 0;
        this.increase();
      }
    }
  }

  private adaptProbe(permit: Permit, outcome: Outcome): void {
    if (outcome === 'neutral') return;
    const throttled = outcome === 'throttled';
    this.refusalRate += (Number(throttled) - this.refusalRate) * RATE_WEIGHT;
    const probe = this.probe !== undefined && (permit.level ?? this.current) >= this.probe.level ? this.probe : undefined;
    // Only requests sent since this attempt at the level began can prove it: one sent
    // earlier may have met fewer requests at the service than its level says.
    const fresh = probe !== undefined && (permit.seq ?? 0) > probe.since;
    // Successes count since the last change of the limit, not in a row: with a few
    // stray 429s a long run of successes would never come.
    if (throttled) {
      if (probe) {
        probe.successes = 0;
        if (++probe.refusals >= PROBE_REFUSALS) {
          this.probeRefused(probe.level);
        } else if (this.current >= probe.level) {
          // First refusal: step back at once (more requests there would only collect
          // more 429s); the level is tried once more before it counts as refused, as
          // the 429 may be a stray one any level gets.
          this.probeActive = false;
          this.decrease(probe.level - 1);
        }
      } else if (permit.generation === this.generation && this.current > 1 && this.refusalRate >= CONGESTION_RATE) {
        // Refusals have become frequent at a level that worked: the service has less
        // room than before. Step down (gently: a hard limit is found by probing again).
        this.probe = undefined;
        this.probeActive = false;
        this.decrease(Math.max(1, Math.min(this.current - 1, Math.floor(this.current * 0.9))));
        this.proven = Math.min(this.proven, this.current);
      }
      return;
    }
    if (probe && fresh && ++probe.successes >= Math.max(PROBE_SUCCESSES, probe.level)) {
      // A full window of requests got through at the probed level without a 429: it is proven.
      this.proven = Math.max(this.proven, probe.level);
      this.probe = undefined;
      this.probeActive = false;
      if (this.proven >= this.refused) {
        this.refused = Number.POSITIVE_INFINITY;
        this.probeInterval = this.baseProbeInterval;
      }
    }
    // Grow only while demand exceeds the limit (successes below it prove nothing about
    // more) and no probe is pending; re-trying a refused level takes many successes.
    if (this.probeActive || this.waiting === 0 || this.current >= this.max) return;
    this.successes++;
    const needed = this.current + 1 >= this.refused ? this.probeInterval : this.increaseAfter;
    if (this.successes >= needed) {
      this.successes = 0;
      this.increase();
      if (this.current > this.proven) {
        if (this.probe?.level !== this.current) this.probe = { level: this.current, successes: 0, refusals: 0, since: this.grants };
        else Object.assign(this.probe, { successes: 0, since: this.grants });
        this.probeActive = true;
      }
    }
  }

  /** A probe at `level` was refused: remember the level, step back below it, try it again later. */
  private probeRefused(level: number): void {
    this.probe = undefined;
    this.probeActive = false;
    if (level < this.refused) {
      this.refused = level;
      this.probeInterval = this.baseProbeInterval;
    } else {
      this.probeInterval = Math.min(this.probeInterval * 2, 1_000_000);
    }
    if (this.current >= level) this.decrease(Math.max(1, level - 1));
  }

  private decrease(to: number): void {
    this.current = to;
    this.successes = 0;
    this.lowest = Math.min(this.lowest, this.current);
    this.generation++;
    this.onChange?.(this.current, 'decrease');
  }

  private increase(): void {
    this.current++;
    this.onChange?.(this.current, 'increase');
  }

  /** Whether a request of this priority may take the next slot now. */
  private mayGrant(priority: Priority): boolean {
    if (this.active >= this.current) return false;
    // A slot above the proven level is a probe; a refused probe waits out a Retry-After,
    // which a listing page (the next link of a chain) should never have to.
    return !(this.mode === 'probe' && priority === 'high' && this.active + 1 > this.proven);
  }

  private grant(): Permit {
    this.active++;
    this.peak = Math.max(this.peak, this.active);
    return { generation: this.generation, level: this.active, seq: ++this.grants };
  }

  private drain(): void {
    while (this.active < this.current) {
      const queue = this.high.length > 0 && this.mayGrant('high') ? this.high : this.normal.length > 0 ? this.normal : undefined;
      if (!queue) return;
      const waiter = queue.shift()!;
      if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener('abort', waiter.onAbort);
      waiter.resolve(this.grant());
    }
  }
}
