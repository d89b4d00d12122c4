// Preload for the CLI processes bench/run.js measures (`node --import ./bench/maxrss-preload.js …`):
// at exit, writes process.resourceUsage() (maxRSS in KiB, CPU times in µs) as JSON to
// the file named by OWNERSYNC_BENCH_RUSAGE. A preload, not /usr/bin/time, so the bench
// runs the same way wherever Node runs. Does nothing when the variable is unset.
import { writeFileSync } from 'node:fs';

const out = process.env.OWNERSYNC_BENCH_RUSAGE;
if (out) {
  process.on('exit', () => {
    try {
      writeFileSync(out, JSON.stringify(process.resourceUsage()));
    } catch {
      // A failed measurement must not change the CLI's exit code.
    }
  });
}
