/**
 * `ownersync emulator`: run the local emulator of Entra ID, the Exchange Online admin
 * API and HelloID (or replay a recorded transcript) until SIGINT/SIGTERM, printing how
 * to point ownersync at it (src/sync/emulator-session.ts starts it and writes the
 * files; src/cli/render/emulator.ts renders).
 */
import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { renderServing, renderStopped } from '../cli/render/emulator.js';
import { serveFixture, serveReplay, waitForSignal } from '../sync/emulator-session.js';

export class EmulatorCommand extends BaseCommand {
  static override summary = 'Run the local emulator of Entra ID, Exchange Online and HelloID.';
  static override description =
    'Serves a tenant fixture over HTTPS on 127.0.0.1 with a throwaway CA, prints how to point ownersync at it, and runs until Ctrl+C. Fault controls (latency, concurrency limits, random failures) can be set here and changed at run time through the control endpoints under /_emulator/ (GET stats, POST faults, POST reset-stats, /_emulator/helloid/groups/…), which require the printed control token.';
  static override examples = [
    '<%= config.bin %> emulator',
    '<%= config.bin %> emulator --write-config ownersync.yaml --write-env emulator.env',
    '<%= config.bin %> emulator --write-config ownersync.yaml --write-env emulator-env.ps1',
    '<%= config.bin %> emulator --port 8443 --latency 50 --concurrency 4',
    '<%= config.bin %> emulator --fixture /tmp/tenant.json --fail-rate 0.05 --seed 7',
    '<%= config.bin %> emulator --transient-rate 0.1',
  ];
  static override flags = {
    fixture: Flags.string({ char: 'f', description: 'Tenant fixture (.yaml or .json). Default: the bundled demo tenant.' }),
    port: Flags.integer({ char: 'p', description: 'Port on 127.0.0.1 (0 = any free port).', default: 0, min: 0, max: 65535 }),
    latency: Flags.integer({ description: 'Added latency per request (ms).', min: 0 }),
    concurrency: Flags.integer({ description: 'In-flight limit per service; above it requests get 429 with Retry-After.', min: 1 }),
    'retry-after': Flags.string({ description: 'Retry-After on 429/503, in seconds (may be fractional).' }),
    'fail-rate': Flags.string({ description: 'Fraction (0..1) of requests failing with a random 429 or 503.' }),
    'transient-rate': Flags.string({ description: 'Fraction (0..1) of Exchange requests answered with a transient HTTP 400 (ServerBusyException and the like), as the live admin API reports "busy".' }),
    seed: Flags.integer({ description: 'Seed for the random faults.' }),
    'log-limit': Flags.integer({ description: 'Requests kept in the request log that /_emulator/stats returns (the newest; 0 = none). Default 10000.', min: 0 }),
    'control-token': Flags.string({ description: 'Token for /_emulator/* (default: random, printed).', env: 'OWNERSYNC_EMULATOR_CONTROL_TOKEN' }),
    'ca-out': Flags.string({ description: 'Also keep the CA certificate at this path (default: a temp file removed at exit).' }),
    replay: Flags.string({ description: 'Serve a transcript recorded with `plan --record` instead of a fixture: each request gets the recorded answer.', exclusive: ['fixture', 'latency', 'concurrency', 'retry-after', 'fail-rate', 'seed'] }),
    'write-config': Flags.string({ description: 'Write an ownersync.yaml for this emulator to this file, then keep running. Overwrites only a file it wrote before.' }),
    'write-env': Flags.string({ description: 'Write the environment (credentials, NODE_EXTRA_CA_CERTS) to this file: `export` lines, or PowerShell `$env:` lines for a .ps1 file.' }),
  };

  /** Resolves when the process is asked to stop; replaceable in tests. */
  static waitForStop: () => Promise<string> = waitForSignal;

  async run(): Promise<void> {
    const { flags } = await this.parse(EmulatorCommand);
    const served = flags.replay
      ? await serveReplay(flags.replay, flags.port, flags['ca-out'])
      : await serveFixture({
          fixture: flags.fixture,
          port: flags.port,
          faults: flags,
          controlToken: flags['control-token'],
          logLimit: flags['log-limit'],
          caOut: flags['ca-out'],
          writeConfig: flags['write-config'],
          writeEnv: flags['write-env'],
        });
    try {
      this.log(renderServing(served));
      this.logToStderr(renderStopped(served, await EmulatorCommand.waitForStop()));
    } finally {
      await served.stop();
    }
  }
}

export default EmulatorCommand;
