/**
 * A bounded worker pool: at most `concurrency` tasks run at once, in input order. Shared
 * by the clients (fan-out reads), the drift check and apply execution.
 * execute's tasks never reject (a failed write is an outcome, not an exception); for
 * tasks that do (reads), the first rejection stops new tasks and is rethrown once
 * the running ones have settled.
 */
export async function runPool<T>(items: readonly T[], concurrency: number, worker: (item: T, index: number) => Promise<void>): Promise<void> {
  const limit = Math.max(1, Math.floor(concurrency) || 1);
  let next = 0;
  let stopped = false;
  const runners: Array<Promise<void>> = [];
  for (let r = 0; r < Math.min(limit, items.length); r++) {
    runners.push(
      (async () => {
        // Once a task has failed, runners stop taking new items (drift reads are all-or-nothing).
        while (next < items.length && !stopped) {
          const i = next++;
          try {
            await worker(items[i]!, i);
          } catch (err) {
            stopped = true;
            throw err;
          }
        }
      })(),
    );
  }
  // Wait for every runner before reporting a failure, so nothing keeps running unobserved.
  const results = await Promise.allSettled(runners);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
