/**
 * The checked-in transcript test/fixtures/transcripts/demo-plan.jsonl (made with
 * `ownersync plan --demo --record`, i.e. the demo tenant with removeMembers: true) as a
 * regression fixture: it stays safe by `transcript check`, and the built CLI's `plan`
 * against `ownersync emulator --replay` of it still makes the plan recorded in it. When
 * the client's requests change shape (a new parameter, different paging), this fails
 * with the replay's "no recorded answer" — re-record the fixture then, and say why.
 *
 * Expected figures are the demo tenant's, written by hand from examples/demo-tenant.yaml:
 * 10 adds, 2 removes (removeMembers), warnings no-helloid-user (Support) and
 * no-owner-group (Marketing).
 */
import { once } from 'node:events';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTranscript } from '../../src/transcript/format.js';
import { REPO, setup, type Env } from '../e2e/harness.js';
import { planShape } from './helpers.js';

const FIXTURE = path.join(REPO, 'test/fixtures/transcripts/demo-plan.jsonl');

let e: Env;
beforeAll(async () => {
  e = await setup();
});
afterAll(async () => e?.stop());

describe('checked-in demo transcript', () => {
  it('is safe to share', async () => {
    const r = await e.run(['transcript', 'check', FIXTURE]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('SAFE:');
    expect(r.stdout).toContain('plan: 11 to add, 2 to remove, 0 kept');
    expect(r.stdout).toContain('plan warnings: no-helloid-user × 1, no-owner-group × 1');
    expect(r.stdout).toMatch(/20 {2}exchange Get-MailboxPermission \(in \$batch\)/);
  });

  it('plan against `emulator --replay` of it makes the recorded plan', async () => {
    const child = e.spawnCli(['emulator', '--replay', FIXTURE]);
    try {
      let out = '';
      child.stdout!.setEncoding('utf8');
      while (!out.includes('Press Ctrl+C')) {
        const [chunk] = (await once(child.stdout!, 'data')) as [string];
        out += chunk;
      }
      const snippet = out.slice(out.indexOf('# ownersync.yaml for the replay'), out.indexOf('Press Ctrl+C'));
      const ca = /export NODE_EXTRA_CA_CERTS=(\S+)/.exec(out)![1]!;
      const { writeFileSync } = await import('node:fs');
      writeFileSync(e.file('replay.yaml'), snippet);
      const r = await e.run(['plan', '-c', 'replay.yaml', '--json', '-o', 'replay-plan.yaml', '--state', 'replay-state.yaml'], {
        env: { NODE_EXTRA_CA_CERTS: ca, OWNERSYNC_CLIENT_SECRET: 'x', HELLOID_API_KEY: 'x', HELLOID_API_SECRET: 'x' },
      });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const plan = JSON.parse(r.stdout) as { summary: object; changes: object[]; warnings: Array<{ code: string; mailbox?: string; subject?: string; message: string }> };
      expect(plan.summary).toEqual({ add: 11, remove: 2, kept: 0 });
      expect(plan.warnings.map((w) => w.code).sort()).toEqual(['no-helloid-user', 'no-owner-group']);
      const recorded = readTranscript(FIXTURE).outcome!;
      // --json leaves out the kept list and groups' member sets; compare what it carries.
      const shape = planShape({ ...plan, kept: [], groups: [] });
      expect(shape).toEqual(planShape({ ...recorded, kept: [], groups: [] }));
      // Warning messages: same text in pseudonyms.
      expect(plan.warnings.map((w) => w.message).sort()).toEqual(recorded.warnings.map((w) => w.message).sort());
    } finally {
      child.kill('SIGINT');
      await once(child, 'close');
    }
  }, 60_000);
});
