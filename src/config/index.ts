/** Public surface of the config module: load/parse, digest, online-check result, types. */
export { DEFAULT_CONFIG_FILE, loadConfig, MAX_CONFIG_BYTES, parseConfig } from './load.js';
export { canonicalJson, configDigest, digestedConfig, redactedConfig, type RedactedConfig } from './digest.js';
export { ENVIRONMENT_ENDPOINTS, parseDuration } from './defaults.js';
export { CONFIG_SCHEMA_PATH, configSchema } from './schema.js';
export type { OnlineCheckResult } from './online.js';
export type { CertificateConfig, EffectiveConfig, ExchangeEnvironment } from './types.js';
