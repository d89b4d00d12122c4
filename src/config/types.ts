/** The effective configuration after interpolation, validation and defaults (spec §2). */

export type ExchangeEnvironment = 'O365Default' | 'O365USGovGCCHigh' | 'O365USGovDoD' | 'O365China';

export interface CertificateConfig {
  /** PEM (certificate + private key) or PFX/P12, resolved relative to the config file. */
  path: string;
  password?: string;
}

export interface EffectiveConfig {
  /** Absolute path of the file this came from (or '<demo>'). */
  sourcePath: string;
  exchange: {
    tenantId: string;
    organization?: string;
    clientId: string;
    clientSecret?: string;
    certificate?: CertificateConfig;
    environment: ExchangeEnvironment;
    /** Resolved: explicit override or the environment's default, no trailing slash. */
    authorityHost: string;
    /** Resolved: explicit override or the environment's default, no trailing slash. */
    adminApiUrl: string;
    mailboxFilter?: string;
    expandGroups: boolean;
  };
  helloid: {
    /** No trailing slash. */
    baseUrl: string;
    apiKey: string;
    apiSecret: string;
  };
  sync: {
    groupSource: string;
    groupPrefix: string;
    groupSuffix: string;
    removeMembers: boolean;
    protectedUsers: string[];
    limits: {
      maxRemovals: number;
      maxRemovalPercent: number;
      allowEmptyingGroups: boolean;
    };
  };
  plan: {
    /** As written, e.g. "72h". */
    expiresAfter: string;
    expiresAfterMs: number;
  };
  apply: {
    concurrency: number;
    requireSignature: boolean;
    /**
     * Absolute path of the allowed-signers file (resolved against the config file's
     * directory): when set, only approvals SSH-signed by a key listed there count.
     */
    allowedSigners?: string;
  };
}
