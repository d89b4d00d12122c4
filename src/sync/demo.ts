/**
 * `--demo`: the bundled demo tenant (examples/demo-tenant.yaml) served by an
 * in-process emulator, and a config pointing at it. The same config text is what
 * `npm run demo` writes to disk, so the demo exercises the real config loader and
 * the real clients over HTTPS; only the endpoints are local.
 */
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../config/load.js';
import type { EffectiveConfig } from '../config/types.js';
import { DEMO_FIXTURE_URL, start, type Emulator } from '../emulator/index.js';

export interface DemoSettings {
  tenantId: string;
  organization: string;
  clientId: string;
  url: string;
}

/** The demo ownersync.yaml: secrets by ${NAME} reference, as in real use. */
export function demoConfigText(s: DemoSettings): string {
  return `# ownersync configuration for the built-in demo tenant (emulator at ${s.url}).
exchange:
  tenantId: ${s.tenantId}
  organization: ${s.organization}
  clientId: ${s.clientId}
  clientSecret: \${OWNERSYNC_CLIENT_SECRET}
  authorityHost: ${s.url}
  adminApiUrl: ${s.url}
helloid:
  baseUrl: ${s.url}
  apiKey: \${HELLOID_API_KEY}
  apiSecret: \${HELLOID_API_SECRET}
sync:
  groupSource: Local
  groupSuffix: " Resource Owners"
  removeMembers: true
  protectedUsers: []
plan:
  expiresAfter: 72h
`;
}

export function demoEnv(em: Emulator): Record<string, string> {
  const s = em.clientSettings();
  return {
    OWNERSYNC_CLIENT_SECRET: s.clientSecret ?? '',
    HELLOID_API_KEY: s.helloidApiKey,
    HELLOID_API_SECRET: s.helloidApiSecret,
  };
}

export interface Demo {
  emulator: Emulator;
  config: EffectiveConfig;
  configText: string;
  env: Record<string, string>;
  caPem: string;
  stop(): Promise<void>;
}

export async function startDemo(fixturePath: string = fileURLToPath(DEMO_FIXTURE_URL)): Promise<Demo> {
  const emulator = await start({ fixture: fixturePath });
  const s = emulator.clientSettings();
  const configText = demoConfigText({ tenantId: s.tenantId, organization: s.organization, clientId: s.clientId, url: emulator.url });
  const env = demoEnv(emulator);
  const config = parseConfig(configText, 'ownersync.demo.yaml', env);
  return { emulator, config, configText, env, caPem: s.caPem, stop: () => emulator.stop() };
}
