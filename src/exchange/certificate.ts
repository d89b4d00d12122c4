/**
 * Loads the app's certificate credential for msal-node: a PEM holding the certificate
 * (chain) and its private key, or a PFX/P12 with an optional password. msal-node 7
 * wants `clientCertificate: { thumbprintSha256, privateKey, x5c }` — the SHA-256
 * thumbprint (hex) of the leaf, an unencrypted PKCS#8 PEM key, and the PEM chain.
 * Errors name the config key and file, never the password.
 */
import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { CertificateConfig } from '../config/types.js';
import { ConfigError } from '../errors.js';
import { registerSecret } from '../redact.js';
import { PfxError, readPfx } from './pfx.js';

export interface LoadedCertificate {
  /** Hex SHA-256 thumbprint of the leaf certificate (what msal-node 7 prefers). */
  thumbprintSha256: string;
  /** Hex SHA-1 thumbprint (what the Entra portal shows). */
  thumbprintSha1: string;
  /** Unencrypted PKCS#8 PEM private key. */
  privateKey: string;
  /** Leaf first, then the rest of the chain, as PEM. */
  x5c: string;
  subject: string;
  notAfter: Date;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const PEM_KEY = /-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----[\s\S]+?-----END \1-----/;

function fail(cfg: CertificateConfig, problem: string): never {
  throw new ConfigError([`exchange.certificate.path: ${cfg.path}: ${problem}`]);
}

function toPem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}-----END CERTIFICATE-----\n`;
}

/** Read and check the certificate credential named by `exchange.certificate`. */
export function loadCertificate(cfg: CertificateConfig, now: Date = new Date()): LoadedCertificate {
  registerSecret(cfg.password);
  let file: Buffer;
  try {
    file = readFileSync(cfg.path);
  } catch (err) {
    fail(cfg, `cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }

  let certs: X509Certificate[];
  let key: KeyObject;
  const text = file.toString('latin1');
  if (text.includes('-----BEGIN')) {
    certs = (text.match(PEM_CERT) ?? []).map((pem) => new X509Certificate(pem));
    if (certs.length === 0) fail(cfg, 'contains no certificate (-----BEGIN CERTIFICATE-----); the PEM must hold the certificate and its private key');
    const keyPem = PEM_KEY.exec(text)?.[0];
    if (!keyPem) fail(cfg, 'contains no private key; the PEM must hold the certificate and its private key');
    if (keyPem.includes('ENCRYPTED') && cfg.password === undefined) {
      fail(cfg, 'the private key is encrypted; set exchange.certificate.password');
    }
    try {
      key = createPrivateKey({ key: keyPem, format: 'pem', ...(cfg.password !== undefined ? { passphrase: cfg.password } : {}) });
    } catch {
      fail(cfg, cfg.password !== undefined ? 'cannot decrypt the private key with exchange.certificate.password' : 'cannot read the private key');
    }
  } else {
    // PFX is a DER/BER SEQUENCE; anything else is not worth parsing.
    if (file[0] !== 0x30) fail(cfg, 'is neither a PEM file (-----BEGIN CERTIFICATE----- …) nor a PFX/P12 file');
    let contents;
    try {
      contents = readPfx(file, cfg.password);
    } catch (err) {
      if (err instanceof PfxError) {
        const convert = 'convert it to PEM with: openssl pkcs12 -in <file>.pfx -out <file>.pem -nodes';
        if (/password/.test(err.message)) {
          fail(cfg, `cannot open the PFX: ${err.message}${cfg.password === undefined ? '; set exchange.certificate.password' : ''}`);
        }
        fail(cfg, `cannot read the PFX: ${err.message}; ${convert}`);
      }
      fail(cfg, 'is neither a PEM file nor a PFX/P12 file');
    }
    certs = contents.certificates.map((der) => new X509Certificate(der));
    if (certs.length === 0) fail(cfg, 'the PFX contains no certificate');
    const der = contents.keys[0];
    if (!der) fail(cfg, 'the PFX contains no private key');
    try {
      key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    } catch {
      fail(cfg, 'cannot read the private key in the PFX');
    }
  }

  // The leaf is the certificate that belongs to the key; the others are its chain.
  const leaf = certs.find((c) => c.checkPrivateKey(key));
  if (!leaf) fail(cfg, 'the private key does not belong to any certificate in the file');
  if (key.asymmetricKeyType !== 'rsa') fail(cfg, `the key is ${key.asymmetricKeyType ?? 'unknown'}; Entra ID app certificates must be RSA`);
  const notAfter = new Date(leaf.validTo);
  if (notAfter.getTime() < now.getTime()) fail(cfg, `the certificate expired on ${notAfter.toISOString()}`);

  const chain = [leaf, ...certs.filter((c) => c !== leaf)];
  const privateKey = key.export({ type: 'pkcs8', format: 'pem' }).toString();
  registerSecret(privateKey);
  return {
    thumbprintSha256: createHash('sha256').update(leaf.raw).digest('hex').toUpperCase(),
    thumbprintSha1: createHash('sha1').update(leaf.raw).digest('hex').toUpperCase(),
    privateKey,
    x5c: chain.map((c) => toPem(c.raw)).join(''),
    subject: leaf.subject,
    notAfter,
  };
}
