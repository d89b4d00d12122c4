/**
 * Adaptive concurrency limit per service (AIMD, as in TCP congestion control):
 * start at the configured maximum, halve on a 429 (never below 1), and add one back
 * after `increaseAfter` consecutive successes. Exchange publishes no budget, so the
 * only way to run near its capacity is to probe it and back off when it pushes back.
 *
 * A burst of 429s from requests that were all in flight together is one congestion
 * signal, not twenty: each permit remembers the limiter's generation when it was
 * granted, and only a 429 on a permit granted after the latest decrease halves again.
 */

export interface LimiterOptions {
  /** Starting and maximum concurrency. */
  max: number;
  /** Consecutive successes before the limit grows by one. @default 10 */
  increaseAfter?: number;
  /** Told about every change of the limit. */
  onChange?: (limit: number, direction: 'decrease' | 'increase') => void;
}

export interface Permit {
  readonly generation: number;
}

export type Outcome = 'success' | 'throttled' | 'neutral';

export class AdaptiveLimiter {
  readonly max: number;
  private readonly increaseAfter: number;
  private readonly onChange: LimiterOptions['onChange'];
  private current: number;
  private active = 0;
  private peak = 0;
  private lowest: number;
  private successes = 0;
  private generation = 0;
  private readonly waiters: Array<{ resolve: (p: Permit) => void; reject: (e: unknown) => void; signal?: AbortSignal; onAbort?: () => void }> = [];

  constructor(options: LimiterOptions) {
    this.max = Math.max(1, Math.floor(options.max));
    this.increaseAfter = Math.max(1, Math.floor(options.increaseAfter ?? 10));
    this.onChange = options.onChange;
    this.current = this.max;
    this.lowest = this.max;
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

  /** Wait for a free slot. */
  acquire(signal?: AbortSignal): Promise<Permit> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.active < this.current && this.waiters.length === 0) return Promise.resolve(this.grant());
    return new Promise<Permit>((resolve, reject) => {
      const waiter: (typeof this.waiters)[number] = { resolve, reject };
      if (signal) {
        waiter.signal = signal;
        waiter.onAbort = () => {
          const i = this.waiters.indexOf(waiter);
          if (i !== -1) this.waiters.splice(i, 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
    });
  }

  /** Return a slot, saying how the request went so the limit can adapt. */
  release(permit: Permit, outcome: Outcome): void {
    this.active--;
    if (outcome === 'throttled') {
      this.successes = 0;
      if (permit.generation === this.generation && this.current > 1) {
        this.current = Math.max(1, Math.floor(this.current / 2));
        this.lowest = Math.min(this.lowest, this.current);
        this.generation++;
        this.onChange?.(this.current, 'decrease');
      }
    } else if (outcome === 'success') {
      this.successes++;
      if (this.successes >= this.increaseAfter && this.current < this.max) {
        this.current++;
        this.successes = 0;
        this.onChange?.(this.current, 'increase');
      }
    }
    this.drain();
  }

  private grant(): Permit {
    this.active++;
    this.peak = Math.max(this.peak, this.active);
    return { generation: this.generation };
  }

  private drain(): void {
    while (this.active < this.current && this.waiters.length > 0) {
      const waiter = this.waiters.shift()!;
      if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener('abort', waiter.onAbort);
      waiter.resolve(this.grant());
    }
  }
}
