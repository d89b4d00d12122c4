/**
 * Request counters and a bounded request log, so tests and benches can assert on
 * what a client actually did (how many permission calls, how many 429s, peak
 * concurrency) without parsing output.
 */
import type { Counter, LogEntry, Service, ServiceCounter, Stats } from './types.js';
import { SERVICES } from './types.js';

function counter(): Counter {
  return { requests: 0, status2xx: 0, status4xx: 0, status429: 0, status5xx: 0, resets: 0, hangs: 0, totalMs: 0 };
}

function serviceCounter(): ServiceCounter {
  return { ...counter(), inFlight: 0, maxInFlight: 0 };
}

export class StatsCollector {
  private startedAt = new Date();
  private totals = counter();
  private services = Object.fromEntries(SERVICES.map((s) => [s, serviceCounter()])) as Record<Service, ServiceCounter>;
  private routes = new Map<string, Counter>();
  private cmdlets = new Map<string, Counter>();
  private log: LogEntry[] = [];
  private logStart = 0;

  constructor(private logLimit: number) {}

  enter(service: Service): void {
    const s = this.services[service];
    s.inFlight++;
    if (s.inFlight > s.maxInFlight) s.maxInFlight = s.inFlight;
  }

  leave(service: Service): void {
    this.services[service].inFlight--;
  }

  inFlight(service: Service): number {
    return this.services[service].inFlight;
  }

  private static bump(c: Counter, status: number, ms: number, fault?: string): void {
    c.requests++;
    c.totalMs += ms;
    if (status === 0) c.resets++;
    else if (status === 429) c.status429++;
    if (status >= 200 && status < 300) c.status2xx++;
    else if (status >= 400 && status < 500) c.status4xx++;
    else if (status >= 500) c.status5xx++;
    if (fault === 'hang') c.hangs++;
  }

  record(e: LogEntry): void {
    StatsCollector.bump(this.totals, e.status, e.ms, e.fault);
    StatsCollector.bump(this.services[e.service], e.status, e.ms, e.fault);
    const key = `${e.service} ${e.method} ${e.route}${e.cmdlet ? ` ${e.cmdlet}` : ''}`;
    let r = this.routes.get(key);
    if (!r) this.routes.set(key, (r = counter()));
    StatsCollector.bump(r, e.status, e.ms, e.fault);
    if (e.cmdlet) this.recordCmdlet(e.cmdlet, e.status, e.ms, e.fault);
    if (this.logLimit > 0) {
      this.log.push(e);
      // Amortised trimming: drop the oldest half-limit in one splice, not one shift per entry.
      if (this.log.length - this.logStart > this.logLimit) this.logStart = this.log.length - this.logLimit;
      if (this.logStart > this.logLimit) {
        this.log = this.log.slice(this.logStart);
        this.logStart = 0;
      }
    }
  }

  /** A $batch sub-request: counted per cmdlet only (the batch itself is the HTTP request). */
  recordCmdlet(cmdlet: string, status: number, ms: number, fault?: string): void {
    let c = this.cmdlets.get(cmdlet);
    if (!c) this.cmdlets.set(cmdlet, (c = counter()));
    StatsCollector.bump(c, status, ms, fault);
  }

  snapshot(): Stats {
    const copy = <T extends object>(o: T): T => ({ ...o });
    return {
      startedAt: this.startedAt.toISOString(),
      totals: copy(this.totals),
      services: Object.fromEntries(SERVICES.map((s) => [s, copy(this.services[s])])) as Record<Service, ServiceCounter>,
      routes: Object.fromEntries([...this.routes].map(([k, v]) => [k, copy(v)])),
      cmdlets: Object.fromEntries([...this.cmdlets].map(([k, v]) => [k, copy(v)])),
      log: this.log.slice(this.logStart),
    };
  }

  /** Zero the counters and the log; requests in flight stay counted as in flight. */
  reset(): void {
    this.startedAt = new Date();
    this.totals = counter();
    for (const s of SERVICES) {
      const inFlight = this.services[s].inFlight;
      this.services[s] = { ...serviceCounter(), inFlight, maxInFlight: inFlight };
    }
    this.routes.clear();
    this.cmdlets.clear();
    this.log = [];
    this.logStart = 0;
  }
}
