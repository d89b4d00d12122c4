/**
 * executePlan with the real HelloID client (over HTTPS to a local server) under
 * throttling: a write waiting out a Retry-After must not keep the other writes waiting,
 * and writes to different groups go out in turn.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { executePlan, interleaveByGroup } from '../../src/apply/execute.js';
import { HelloIdClient } from '../../src/helloid/index.js';
import { closeSharedDispatchers, HttpClient } from '../../src/http/index.js';
import { clearSecrets } from '../../src/redact.js';
import { G, makePlan, tempDir, U } from '../plan/helpers.js';
import { startServer, type TestServer } from '../http/server.js';

let server: TestServer;
let dir: string;
let cleanup: () => void;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await closeSharedDispatchers();
  await server.close();
});
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
});
afterEach(() => {
  cleanup();
  clearSecrets();
});

/** A HelloID client as `apply` builds it (probe mode, apply.concurrency as the limit), with real sleeps. */
function writer(concurrency: number): HelloIdClient {
  const http = new HttpClient({ service: 'helloid', caPem: server.caPem, maxConcurrency: concurrency, concurrencyMode: 'probe' });
  return new HelloIdClient({ baseUrl: server.url, apiKey: 'test-key', apiSecret: 'test-secret', http });
}

describe('executePlan under throttling', () => {
  it('a write waiting out Retry-After does not hold one of the apply.concurrency slots', async () => {
    // makePlan: remove U2 from G1, add U3 to G1, add U4 and U5 to G2. apply.concurrency 1;
    // the first write (remove U2) is answered 429 with Retry-After: 0.5 s. The three
    // other writes go through while it waits; it finishes last. (Before the fix, apply
    // ran one worker per slot: that worker sat out the Retry-After and the others queued.)
    server.reset();
    let refused = false;
    server.setHandler((req, res) => {
      if (req.method === 'DELETE' && !refused) {
        refused = true;
        res.writeHead(429, { 'retry-after': '0.5', 'content-type': 'application/json' });
        res.end('{"message":"Too many requests."}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      setTimeout(() => res.end('{}'), 5);
    });
    const plan = makePlan();
    const finished: string[] = [];
    const receipt = await executePlan(plan, writer(1), {
      concurrency: 1,
      journalPath: join(dir, 'plan.yaml.journal.jsonl'),
      durableJournal: false,
      onProgress: (p) => finished.push(`${p.change.action} ${p.change.userGuid}`),
    });
    expect(receipt.summary).toEqual({ total: 4, done: 4, already: 0, failed: 0, skipped: 0 });
    expect(finished).toEqual([`add ${U(4)}`, `add ${U(3)}`, `add ${U(5)}`, `remove ${U(2)}`]);
    // Never more than apply.concurrency writes at the service.
    expect(server.maxInFlight).toBe(1);
    expect(server.count).toBe(5);
  });

  it('sends one change per group in turn, keeping the plan order within a group', () => {
    const plan = makePlan({ extraGroups: 2, usersPerExtraGroup: 3 });
    const order = interleaveByGroup(plan.changes).map((i) => `${plan.changes[i]!.groupGuid === G(1) ? 'G1' : plan.changes[i]!.groupGuid === G(2) ? 'G2' : plan.changes[i]!.groupGuid === G(100) ? 'X0' : 'X1'} ${i}`);
    // Plan order: G1 0,1; G2 2,3; X0 4,5,6; X1 7,8,9.
    expect(order).toEqual(['G1 0', 'G2 2', 'X0 4', 'X1 7', 'G1 1', 'G2 3', 'X0 5', 'X1 8', 'X0 6', 'X1 9']);
  });
});
