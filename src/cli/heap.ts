/**
 * How far V8 lets the heap outgrow its live size before the next full collection.
 *
 * After each full collection V8 sets the next limit at the live size times a factor it
 * picks from its GC and allocation speeds, up to 4 on a machine with more than 2 GB for
 * the heap (v8/src/heap/heap-controller.cc, MaxGrowingFactor). `plan` allocates fast
 * while its live set is modest (one page, one $batch, one diff at a time), so at 20,000
 * mailboxes a live heap of about 120 MB reached 480 MB of RSS before V8 collected it:
 * the peak was garbage, not data. A fixed factor of 1.5 (V8's `--heap-growing-percent`,
 * which overrides the computed factor at every recomputation of the limit) keeps the
 * peak near the live size for some more collections (bench/run.js; README Performance).
 *
 * The flag is set at run time because it is read each time the limit is recomputed;
 * Node does not accept it in NODE_OPTIONS. A `--heap-growing-percent` given on node's
 * own command line wins. Only `plan` sets it: the other commands hold little, and the
 * emulator is a long-running server better left to V8's own pacing.
 */
import { setFlagsFromString } from 'node:v8';

const HEAP_GROWING_PERCENT = 50;

export function keepHeapNearLiveSize(): void {
  if (process.execArgv.some((a) => /^--heap[-_]growing[-_]percent\b/.test(a))) return;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
