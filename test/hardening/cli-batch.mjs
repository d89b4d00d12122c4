// Runs many ownersync command lines in ONE Node process, through the same entry the
// bin script uses (dist/cli/main.js → oclif → command → exit-code mapping), capturing
// stdout, stderr and the exit code of each. Spawning the CLI costs ~1 s of CPU per run;
// the bad-input corpora have hundreds of runs, so the hardening suites use this for the
// bulk and spawn the real bin for a sample (see batch.ts).
//
// Usage: node cli-batch.mjs <jobs.json> <results.json>
//   jobs: [{ args: string[], env?: { NAME: value | null } }]
// Everything runs with the process's cwd.
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const { main } = await import(pathToFileURL(path.join(repo, 'dist/cli/main.js')).href);
const entry = pathToFileURL(path.join(repo, 'bin/run.js')).href;

const jobs = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const results = [];
const realOut = process.stdout.write.bind(process.stdout);
const realErr = process.stderr.write.bind(process.stderr);
let crashes = [];
process.on('unhandledRejection', (e) => crashes.push(`unhandledRejection: ${e?.stack ?? e}`));
process.on('uncaughtException', (e) => crashes.push(`uncaughtException: ${e?.stack ?? e}`));

for (const job of jobs) {
  let out = '';
  let err = '';
  const saved = {};
  for (const [k, v] of Object.entries(job.env ?? {})) {
    saved[k] = process.env[k];
    if (v === null) delete process.env[k];
    else process.env[k] = v;
  }
  process.stdout.write = (chunk, enc, cb) => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (typeof enc === 'function') enc();
    else if (typeof cb === 'function') cb();
    return true;
  };
  process.stderr.write = (chunk, enc, cb) => {
    err += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (typeof enc === 'function') enc();
    else if (typeof cb === 'function') cb();
    return true;
  };
  process.exitCode = undefined;
  let thrown;
  const t0 = Date.now();
  try {
    await main(job.args, entry);
  } catch (e) {
    thrown = String(e?.stack ?? e);
  } finally {
    process.stdout.write = realOut;
    process.stderr.write = realErr;
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  results.push({ args: job.args, code: process.exitCode ?? 0, stdout: out, stderr: err, thrown, crashes, ms: Date.now() - t0 });
  if (process.env.BATCH_TRACE) realErr(`${Date.now() - t0} ms ${job.args.join(' ')}\n`);
  crashes = [];
}
process.exitCode = 0;
writeFileSync(process.argv[3], JSON.stringify(results));
