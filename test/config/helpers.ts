/** Shared fixtures for the config tests: a valid base config and sentinel secrets. */
import { stringify } from 'yaml';
import { ConfigError } from '../../src/errors.js';
import { parseConfig } from '../../src/config/index.js';
import type { EffectiveConfig } from '../../src/config/index.js';

/** Distinctive values: if one shows up in a message, a secret leaked. */
export const SENTINELS = {
  OWNERSYNC_CLIENT_SECRET: 'SENTINEL-client-secret-7f3a',
  OWNERSYNC_CERT_PASSWORD: 'SENTINEL-cert-pw-55e1',
  HELLOID_API_KEY: 'SENTINEL-api-key-91b2',
  HELLOID_API_SECRET: 'SENTINEL-api-secret-c4d8',
} as const;

export const ENV: Record<string, string> = { ...SENTINELS };

export const TENANT = '0b9b6f5e-3c1a-4d2e-9f70-2a4c8d1e5b36';
export const CLIENT = '6a1f3c2e-8d4b-4f0a-b5e7-9c2d1e0f3a4b';

export type Obj = Record<string, unknown>;

export function baseObject(): Obj {
  return {
    exchange: {
      tenantId: TENANT,
      clientId: CLIENT,
      clientSecret: '${OWNERSYNC_CLIENT_SECRET}',
    },
    helloid: {
      baseUrl: 'https://contoso.helloid.com',
      apiKey: '${HELLOID_API_KEY}',
      apiSecret: '${HELLOID_API_SECRET}',
    },
  };
}

export function toYaml(obj: unknown): string {
  return stringify(obj);
}

/** The base config with `mutate` applied, as YAML text. */
export function variant(mutate: (o: Obj & { exchange: Obj; helloid: Obj }) => void): string {
  const o = baseObject() as Obj & { exchange: Obj; helloid: Obj };
  mutate(o);
  return toYaml(o);
}

export function parse(text: string, env: Record<string, string | undefined> = ENV, baseDir = '/etc/ownersync'): EffectiveConfig {
  return parseConfig(text, 'ownersync.yaml', env, baseDir);
}

/** The problems of a config that must fail; fails the test if it parses or throws anything else. */
export function problemsOf(text: string, env: Record<string, string | undefined> = ENV): string[] {
  try {
    parse(text, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError, but the config was accepted');
}
