#!/usr/bin/env node
// Runs the oclif developer CLI (`oclif manifest`, `oclif readme`) for the npm scripts,
// without its "oclif update available" check: that warning is about the build tool,
// not ownersync, and only cluttered build, demo, test and pack output. The check is
// the plugin-warn-if-update-available hook, off with <BIN>_SKIP_NEW_VERSION_CHECK;
// set here rather than as `VAR=… oclif` in package.json so the scripts also run
// under Windows' cmd.exe.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const bin = join(dirname(require.resolve('oclif/package.json')), 'bin', 'run.js');
const r = spawnSync(process.execPath, [bin, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, OCLIF_SKIP_NEW_VERSION_CHECK: 'true' },
});
process.exitCode = r.status ?? 1;
