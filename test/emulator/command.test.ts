/**
 * `ownersync emulator`: starts on the demo fixture by default, prints the base URL,
 * CA path, NODE_EXTRA_CA_CERTS and credential exports and a config snippet, serves
 * until told to stop, and rejects bad flag values as usage errors.
 */
import { mkdirSync, mkdtempSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Agent, request } from 'undici';
import { EmulatorCommand } from '../../src/commands/emulator.js';
import { DEFAULT_FIXTURE } from '../../src/sync/emulator-session.js';
import { UsageError } from '../../src/errors.js';
import { DEMO_FIXTURE } from './helpers.js';

let ROOT: string;
const originalWait = EmulatorCommand.waitForStop;

beforeAll(() => {
  // A bare oclif root, so oclif does not scan dist/commands (other modules build there).
  ROOT = path.join(mkdtempSync(path.join(tmpdir(), 'ownersync-emu-cmd-')), 'root');
  mkdirSync(ROOT);
  writeFileSync(path.join(ROOT, 'package.json'), JSON.stringify({ name: 'ownersync', version: '0.0.0', type: 'module', oclif: { bin: 'ownersync' } }));
});

afterEach(() => {
  EmulatorCommand.waitForStop = originalWait;
  vi.restoreAllMocks();
});

async function run(argv: string[], whileRunning: (out: string) => Promise<void> = async () => undefined): Promise<{ out: string; error?: unknown }> {
  const chunks: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    chunks.push(`${args.map(String).join(' ')}\n`);
  });
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
  EmulatorCommand.waitForStop = async () => {
    await whileRunning(chunks.join(''));
    return 'SIGTERM';
  };
  try {
    await EmulatorCommand.run(argv, ROOT);
    return { out: chunks.join('') };
  } catch (error) {
    return { out: chunks.join(''), error };
  }
}

describe('ownersync emulator', () => {
  it('defaults to the bundled demo tenant', () => {
    expect(DEFAULT_FIXTURE).toBe(DEMO_FIXTURE);
  });

  it('prints URL, CA, exports and a config snippet, serves until stopped, then cleans up', async () => {
    let caPath = '';
    const { out, error } = await run(['--latency', '1', '--concurrency', '8', '--fail-rate', '0', '--control-token', 'cmd-token'], async (text) => {
      const url = /base URL {2}(https:\/\/127\.0\.0\.1:\d+)/.exec(text)![1]!;
      caPath = /CA {8}(\S+)/.exec(text)![1]!;
      expect(existsSync(caPath)).toBe(true);
      const ca = /export NODE_EXTRA_CA_CERTS=(\S+)/.exec(text)![1];
      expect(ca).toBe(caPath);
      const agent = new Agent({ connect: { ca: (await import('node:fs')).readFileSync(caPath, 'utf8') } });
      const r = await request(`${url}/_emulator/faults`, { headers: { authorization: 'Bearer cmd-token' }, dispatcher: agent });
      const f = (await r.body.json()) as { latencyMs: number; concurrency: Record<string, number> };
      expect(f.latencyMs).toBe(1);
      expect(f.concurrency).toEqual({ entra: 8, exchange: 8, helloid: 8 });
      await agent.close();
    });
    expect(error).toBeUndefined();
    expect(out).toContain('export OWNERSYNC_CLIENT_SECRET=demo-secret-not-real');
    expect(out).toContain('export HELLOID_API_KEY=demo-helloid-key');
    expect(out).toContain('export HELLOID_API_SECRET=demo-helloid-secret-not-real');
    expect(out).toMatch(/exchange:\n {2}tenantId: 00000000-0000-4000-8000-000000000001\n/);
    expect(out).toContain('  clientSecret: ${OWNERSYNC_CLIENT_SECRET}');
    expect(out).toMatch(/ {2}authorityHost: https:\/\/127\.0\.0\.1:\d+\n {2}adminApiUrl: https:\/\/127\.0\.0\.1:\d+\n/);
    expect(out).toMatch(/helloid:\n {2}baseUrl: https:\/\/127\.0\.0\.1:\d+\n {2}apiKey: \$\{HELLOID_API_KEY\}\n {2}apiSecret: \$\{HELLOID_API_SECRET\}/);
    expect(out).toContain('20 shared mailboxes');
    // The temp CA is removed at stop.
    expect(existsSync(caPath)).toBe(false);
  });

  it('rejects a fail rate outside 0..1 as a usage error', async () => {
    const { error } = await run(['--fail-rate', '2']);
    expect(error).toBeInstanceOf(UsageError);
  });

  it('reports a missing fixture naming the path', async () => {
    const { error } = await run(['--fixture', '/nonexistent/tenant.yaml']);
    expect(String((error as Error).message)).toContain('/nonexistent/tenant.yaml');
  });
});
