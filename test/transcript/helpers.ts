/**
 * In-process record → replay → re-plan, with the real clients over HTTPS against the
 * real emulator (recording) and the replay server (re-plan). `plan` is run the way the
 * command runs it (createSources → readAndDiff → buildPlan), without the file writing.
 */
import type { Emulator, TenantFixture, Faults } from '../../src/emulator/index.js';
import { start } from '../../src/emulator/index.js';
import { startReplay, type Replay } from '../../src/emulator/replay.js';
import { configDigest } from '../../src/config/index.js';
import { parseConfig } from '../../src/config/load.js';
import type { EffectiveConfig } from '../../src/config/types.js';
import type { HttpClientOptions } from '../../src/http/index.js';
import { buildPlan, type PlanFile } from '../../src/plan/index.js';
import { createSources } from '../../src/sync/clients.js';
import { readAndDiff, syncOptionsFrom } from '../../src/sync/read.js';
import { TranscriptRecorder } from '../../src/transcript/recorder.js';
import { configYaml, type SyncSettings } from '../e2e/config-yaml.js';

export type SyncYaml = Pick<SyncSettings, 'removeMembers' | 'protectedUsers' | 'mailboxFilter' | 'groupPrefix' | 'groupSuffix' | 'expandGroups'>;

/** The effective config for an emulator (the e2e harness's ownersync.yaml), read in process. */
export function emulatorConfig(em: Emulator, s: SyncYaml = {}): EffectiveConfig {
  const c = em.clientSettings();
  return parseConfig(configYaml(em, s), 'ownersync.test.yaml', {
    OWNERSYNC_CLIENT_SECRET: c.clientSecret ?? '',
    HELLOID_API_KEY: c.helloidApiKey,
    HELLOID_API_SECRET: c.helloidApiSecret,
  });
}

/** Fast retries: the recorded faults must not make the tests wait. */
const FAST: Omit<HttpClientOptions, 'service'> = { retryBaseDelayMs: 5, retryMaxDelayMs: 20, maxRetryAfterMs: 20 };

export async function planWith(cfg: EffectiveConfig, caPem: string, httpOptions: Omit<HttpClientOptions, 'service'> = {}): Promise<PlanFile> {
  const sources = createSources(cfg, { extraCaPem: caPem, httpOptions: { ...FAST, ...httpOptions } });
  try {
    const result = await readAndDiff(sources.exchange, sources.helloid, syncOptionsFrom(cfg));
    const plan = buildPlan({ diff: result.diff, config: cfg, configDigest: configDigest(cfg), toolVersion: 'test', now: new Date(), overrideLimits: true });
    return { ...plan, overrides: [] };
  } finally {
    await sources.close();
  }
}

export interface Recorded {
  plan: PlanFile;
  recorder: TranscriptRecorder;
  emulator: Emulator;
}

/** Run a recorded plan against a fresh emulator of `fixture`. */
export async function recordRun(fixture: TenantFixture | string, file: string, sync: SyncYaml = {}, faults?: Partial<Faults>): Promise<Recorded> {
  const emulator = await start({ fixture, ...(faults ? { faults } : {}) });
  try {
    const cfg = emulatorConfig(emulator, sync);
    const recorder = new TranscriptRecorder(file, cfg, { command: 'plan', toolVersion: 'test' });
    const plan = await planWith(cfg, emulator.caPem, { onExchange: recorder.hook });
    recorder.finish(plan);
    return { plan, recorder, emulator };
  } finally {
    await emulator.stop();
  }
}

export async function replayPlan(file: string): Promise<{ plan: PlanFile; replay: Replay }> {
  const replay = await startReplay({ transcript: file });
  try {
    const cfg = parseConfig(replay.configSnippet(), 'replay.yaml', replay.env());
    const plan = await planWith(cfg, replay.caPem);
    return { plan, replay };
  } finally {
    await replay.stop();
  }
}

/** The parts of a plan body that must survive record → replay, in an order-free form. */
export function planShape(plan: { summary: unknown; changes: readonly object[]; kept: readonly object[]; groups: readonly object[]; warnings: ReadonlyArray<{ code: string; mailbox?: string; subject?: string }> }) {
  const sorted = <T>(xs: readonly T[]): string[] => xs.map((x) => JSON.stringify(x, Object.keys(x as object).sort())).sort();
  return {
    summary: plan.summary,
    changes: sorted(plan.changes.map((c) => ({ ...c, reason: undefined }))),
    kept: sorted(plan.kept.map((c) => ({ ...c, reason: undefined }))),
    groups: sorted(plan.groups),
    warnings: sorted(plan.warnings.map((w) => ({ code: w.code, mailbox: w.mailbox, subject: w.subject }))),
  };
}
