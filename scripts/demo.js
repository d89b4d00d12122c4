#!/usr/bin/env node
// `npm run demo`: a narrated run of the whole GitOps flow against the bundled demo
// tenant: plan → show → approve → apply → plan again (no changes). The emulator runs
// in this process; every step is the real CLI in a child process, trusting the
// emulator's CA through NODE_EXTRA_CA_CERTS exactly as a user would.
//
// Each step prints its command line and then runs exactly that line through the
// system shell (sh, or cmd.exe on Windows), with an `ownersync` shim on PATH: what is
// printed is what ran, so it can be pasted. Arguments with spaces are double-quoted,
// which both shells read the same way.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { start, DEMO_FIXTURE_URL } = await import(join(root, 'dist/emulator/index.js'));
const { demoConfigText, demoEnv } = await import(join(root, 'dist/sync/demo.js'));

const work = join(root, 'tmp', 'demo');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

const bold = (s) => (process.stdout.isTTY && !('NO_COLOR' in process.env) ? `\x1b[1m${s}\x1b[0m` : s);
const say = (title, text) => {
  process.stdout.write(`\n${bold(`━━ ${title}`)}\n`);
  if (text) process.stdout.write(`${text}\n`);
};

/** One argument as both sh and cmd.exe read it: bare when safe, else in double quotes. */
function quote(arg) {
  if (/^[A-Za-z0-9_./:=@+-]+$/.test(arg)) return arg;
  if (/["$`\\%!]/.test(arg)) throw new Error(`demo argument ${JSON.stringify(arg)} cannot be quoted the same way for sh and cmd.exe`);
  return `"${arg}"`;
}

const emulator = await start({ fixture: fileURLToPath(DEMO_FIXTURE_URL) });
let failed = false;
try {
  const s = emulator.clientSettings();
  writeFileSync(join(work, 'ownersync.yaml'), demoConfigText({ tenantId: s.tenantId, organization: s.organization, clientId: s.clientId, url: emulator.url }));
  // `ownersync` on PATH for the shell: this checkout's CLI.
  const shimDir = join(work, '.bin');
  mkdirSync(shimDir);
  writeFileSync(join(shimDir, 'ownersync'), `#!/bin/sh\nexec "${process.execPath}" "${join(root, 'bin/run.js')}" "$@"\n`);
  chmodSync(join(shimDir, 'ownersync'), 0o755);
  writeFileSync(join(shimDir, 'ownersync.cmd'), `@"${process.execPath}" "${join(root, 'bin', 'run.js')}" %*\r\n`);
  const pathKey = Object.keys(process.env).find((k) => k.toUpperCase() === 'PATH') ?? 'PATH';
  const env = { ...process.env, ...demoEnv(emulator), NODE_EXTRA_CA_CERTS: emulator.caPath, [pathKey]: `${shimDir}${delimiter}${process.env[pathKey] ?? ''}` };
  delete env.GITHUB_STEP_SUMMARY;

  // Asynchronous spawn: the emulator answers from this process's event loop.
  const run = async (args, expectCodes, title, text) => {
    say(title, text);
    const line = ['ownersync', ...args].map(quote).join(' ');
    process.stdout.write(`$ ${line}\n`);
    const child = spawn(line, { cwd: work, env, stdio: 'inherit', shell: true });
    const status = await new Promise((res) => child.on('close', (code) => res(code)));
    if (!expectCodes.includes(status)) {
      process.stderr.write(`\nDemo step failed: '${line}' exited ${status} (expected ${expectCodes.join(' or ')}).\n`);
      failed = true;
      throw new Error('demo step failed');
    }
    return status;
  };

  say('ownersync demo', `Demo tenant "Contoso" served by the built-in emulator at ${emulator.url}.\nWorking directory: ${work}\nConfig: ownersync.yaml (removeMembers: true; secrets come from the environment).`);
  await run(['validate', '-c', 'ownersync.yaml'], [0], '1. Validate the configuration');
  await run(['plan', '-c', 'ownersync.yaml', '-o', 'plan.yaml', '--state', 'desired-state.yaml', '--markdown', 'plan.md', '--detailed-exitcode'], [2], '2. Plan',
    'Reads Exchange (shared mailboxes, FullAccess, group members) and HelloID (users, groups, owner-group members),\nwrites desired-state.yaml and plan.yaml. Nothing changes in HelloID. Exit 2 = changes present.');
  await run(['show', 'plan.yaml', '--markdown'], [0], '3. Show the plan as a reviewer sees it in the pull request (Markdown)');
  await run(['approve', 'plan.yaml', '--by', 'Demo Reviewer', '--comment', 'checked against the mailbox owners list'], [0], '4. Approve',
    "The approval is bound to the plan's digest: any edit of the plan voids it.");
  await run(['apply', 'plan.yaml', '-c', 'ownersync.yaml'], [0], '5. Apply',
    'Verifies digest, approval, expiry, target and config, checks every affected group for drift, then writes.');
  await run(['plan', '-c', 'ownersync.yaml', '-o', 'plan-after.yaml', '--state', 'desired-state.yaml', '--detailed-exitcode'], [0], '6. Plan again',
    'HelloID now mirrors Exchange: the new plan has no changes (exit 0).');
  say('Done', `HelloID resource-owner groups now match Exchange FullAccess. Files are in ${work}.`);
} catch (err) {
  if (!failed) process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  failed = true;
} finally {
  await emulator.stop();
}
process.exitCode = failed ? 1 : 0;
