/**
 * What `ownersync emulator` prints: once it listens, what a user needs to point
 * ownersync (in another shell) at it — base URL, CA file, the environment to export, a
 * config snippet, the control token and the files written — and one line when it stops.
 */
import type { Served } from '../../sync/emulator-session.js';
import { loadHint, shellQuote } from '../../sync/emulator-session.js';
import { plural } from '../../plural.js';

/** The banner printed once the emulator (or the replay) listens. */
export function renderServing(s: Served): string {
  return s.kind === 'fixture' ? fixtureBanner(s) : replayBanner(s);
}

/** The line printed on stderr when a signal stops it. */
export function renderStopped(s: Served, sig: string): string {
  if (s.kind === 'fixture') {
    const t = s.emu.stats().totals;
    return `\n${sig}: stopping after ${plural(t.requests, 'request')} (${t.status429} × 429, ${t.status5xx} × 5xx).`;
  }
  const misses = s.replay.misses();
  return `\n${sig}: stopping after ${s.replay.served()} replayed answers${misses.length > 0 ? `; ${misses.length} requests had no recorded answer, e.g. ${misses[0]}` : ''}.`;
}

function fixtureBanner(s: Extract<Served, { kind: 'fixture' }>): string {
  const { emu, fixturePath } = s;
  const ex = emu.state.exchange;
  const shared = ex.mailboxes.filter((m) => m.recipientTypeDetails === 'SharedMailbox').length;
  const lines = [
    'ownersync emulator: Entra ID, Exchange Online admin API and HelloID',
    `  fixture   ${fixturePath} (${emu.model.displayName}: ${plural(shared, 'shared mailbox', 'shared mailboxes')}, ${plural(ex.users.filter((u) => u.kind === 'user').length, 'user')}, ${plural(emu.state.helloid.groups.length, 'HelloID group')})`,
    `  base URL  ${emu.url}`,
    `  CA        ${emu.caPath}`,
    `  control   ${emu.url}/_emulator/stats   (Authorization: Bearer ${emu.controlToken})`,
    '',
    '# In the shell that runs ownersync (NODE_EXTRA_CA_CERTS is read when node starts):',
    ...exports(emu.env()),
    '# (emulator-only credentials from the fixture; they are accepted nowhere else)',
    '',
    emu.configSnippet().trimEnd(),
    '',
    'Press Ctrl+C to stop.',
  ];
  if (s.writeConfig) lines.push(`\nWrote ${s.writeConfig} (the configuration for this emulator).`);
  if (s.writeEnv) lines.push(`Wrote ${s.writeEnv}; load it in the shell that runs ownersync:  ${loadHint(s.writeEnv)}`);
  return lines.join('\n');
}

function replayBanner(s: Extract<Served, { kind: 'replay' }>): string {
  const r = s.replay;
  const h = r.transcript.header;
  return [
    'ownersync emulator: replay of a recorded transcript',
    `  transcript ${s.file} (${h.command}, recorded ${h.createdAt}, ${r.transcript.entries.length} exchanges${h.pseudonymised ? ', pseudonymised' : ', RAW'})`,
    `  base URL   ${r.url}`,
    `  CA         ${r.caPath}`,
    '',
    '# In the shell that runs ownersync (any credentials are accepted):',
    ...exports(r.env()),
    '',
    r.configSnippet().trimEnd(),
    '',
    'Press Ctrl+C to stop.',
  ].join('\n');
}

function exports(env: Record<string, string>): string[] {
  return Object.entries(env).map(([k, v]) => `export ${k}=${shellQuote(v)}`);
}
