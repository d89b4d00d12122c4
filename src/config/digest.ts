/**
 * Fingerprint of the effective configuration, recorded in a plan so apply can tell
 * that it runs with the settings the plan was made with (spec §5). Secrets are left
 * out, so rotating a client secret or API key does not invalidate approved plans;
 * so is the certificate path, which differs between checkouts (CI runner vs laptop).
 * Which auth method is used does count.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../canonical-json.js';
import type { EffectiveConfig, ExchangeEnvironment } from './types.js';

/** The effective config without secrets or sourcePath: what the digest covers, and what may be displayed. */
export interface RedactedConfig {
  exchange: {
    tenantId: string;
    organization?: string;
    clientId: string;
    auth: 'clientSecret' | 'certificate';
    environment: ExchangeEnvironment;
    authorityHost: string;
    adminApiUrl: string;
    mailboxFilter?: string;
    expandGroups: boolean;
  };
  helloid: { baseUrl: string };
  sync: EffectiveConfig['sync'];
  plan: EffectiveConfig['plan'];
  apply: EffectiveConfig['apply'];
}

/** A copy of `cfg` with every secret removed and the auth method named instead. */
export function redactedConfig(cfg: EffectiveConfig): RedactedConfig {
  const ex = cfg.exchange;
  const exchange: RedactedConfig['exchange'] = {
    tenantId: ex.tenantId,
    clientId: ex.clientId,
    auth: ex.certificate ? 'certificate' : 'clientSecret',
    environment: ex.environment,
    authorityHost: ex.authorityHost,
    adminApiUrl: ex.adminApiUrl,
    expandGroups: ex.expandGroups,
  };
  if (ex.organization !== undefined) exchange.organization = ex.organization;
  if (ex.mailboxFilter !== undefined) exchange.mailboxFilter = ex.mailboxFilter;
  return {
    exchange,
    helloid: { baseUrl: cfg.helloid.baseUrl },
    sync: {
      groupSource: cfg.sync.groupSource,
      groupPrefix: cfg.sync.groupPrefix,
      groupSuffix: cfg.sync.groupSuffix,
      removeMembers: cfg.sync.removeMembers,
      // A set in meaning: the order it is written in must not change the digest.
      protectedUsers: [...cfg.sync.protectedUsers].sort(),
      limits: { ...cfg.sync.limits },
    },
    plan: { expiresAfter: cfg.plan.expiresAfter, expiresAfterMs: cfg.plan.expiresAfterMs },
    apply: {
      concurrency: cfg.apply.concurrency,
      requireSignature: cfg.apply.requireSignature,
      ...(cfg.apply.allowedSigners !== undefined ? { allowedSigners: cfg.apply.allowedSigners } : {}),
    },
  };
}


/**
 * What a plan's content depends on: where it reads (tenant, Exchange endpoint, scope
 * filter, expansion) and writes (HelloID), and how it diffs (sync). How the app signs
 * in (client id, secret vs certificate, authority) and the plan/apply operating knobs
 * (expiry, concurrency, requireSignature) do not change what a plan says, so changing
 * them between plan and apply must not make apply refuse an approved plan.
 *
 * apply.allowedSigners is left out for the same reason, and on purpose: it is approval
 * policy, which apply reads from the configuration it runs with. In the digest, adding
 * the key after planning would make apply refuse every plan in flight as "made with
 * another configuration" instead of applying the policy to it; out of it, the policy in
 * force at apply time is the one that counts (and changing it is a reviewed commit).
 */
export function digestedConfig(cfg: EffectiveConfig): Record<string, unknown> {
  const r = redactedConfig(cfg);
  return {
    exchange: {
      tenantId: r.exchange.tenantId,
      organization: r.exchange.organization,
      environment: r.exchange.environment,
      adminApiUrl: r.exchange.adminApiUrl,
      mailboxFilter: r.exchange.mailboxFilter,
      expandGroups: r.exchange.expandGroups,
    },
    helloid: r.helloid,
    sync: r.sync,
  };
}

/** `sha256:<hex>` over the canonical JSON of `digestedConfig(cfg)`. */
export function configDigest(cfg: EffectiveConfig): string {
  return `sha256:${createHash('sha256').update(canonicalJson(digestedConfig(cfg)), 'utf8').digest('hex')}`;
}

export { canonicalJson };
