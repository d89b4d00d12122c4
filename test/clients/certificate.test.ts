/**
 * Loading the app certificate: PEM (plain and encrypted key, chains), PFX in the
 * encodings OpenSSL 3, OpenSSL 1.x (-legacy: RC2-40 + 3DES) and Windows write (PBES2/AES,
 * SHA1-3DES, none, BER with indefinite lengths), the integrity check (wrong password,
 * damaged MAC, unknown MAC digest), and an msal token request with a PFX from each
 * family. PFX files are made by openssl at test time; thumbprints are checked against
 * openssl's own where openssl is available.
 */
import { spawnSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { loadFixture, start, type Emulator } from '../../src/emulator/index.js';
import { loadCertificate } from '../../src/exchange/index.js';
import { closeSharedDispatchers } from '../../src/http/index.js';
import { clearSecrets, redact } from '../../src/redact.js';
import { auth, configFor, DEMO_FIXTURE } from './helpers.js';

const openssl = spawnSync('openssl', ['version']).status === 0;
let dir: string;
let cert: string;
let key: string;
let sha256: string;

function sh(args: string[]): void {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

const file = (name: string, text: string | Buffer): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ownersync-cert-'));
  const pems = await generate([{ name: 'commonName', value: 'ownersync-app' }], { keySize: 2048, algorithm: 'sha256' });
  cert = pems.cert;
  key = pems.private;
  file('cert.pem', cert);
  file('key.pem', key);
  const { X509Certificate, createHash } = await import('node:crypto');
  sha256 = createHash('sha256').update(new X509Certificate(cert).raw).digest('hex').toUpperCase();
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  clearSecrets();
});


/** The error `fn` throws (undefined when it does not), to assert on its type and message. */
function thrown(fn: () => unknown): Error | undefined {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  return undefined;
}

describe('PEM', () => {
  it('reads certificate + key in either order, with the SHA-256 and SHA-1 thumbprints', () => {
    for (const text of [`${cert}\n${key}`, `${key}\n${cert}`]) {
      const c = loadCertificate({ path: file('app.pem', text) });
      expect(c.thumbprintSha256).toBe(sha256);
      expect(c.thumbprintSha1).toMatch(/^[0-9A-F]{40}$/);
      expect(c.privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----/);
      expect(c.x5c.trim()).toBe(cert.trim().replace(/\r/g, ''));
      expect(c.subject).toBe('CN=ownersync-app');
    }
    if (openssl) {
      const r = spawnSync('openssl', ['x509', '-in', join(dir, 'cert.pem'), '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' });
      expect(r.stdout.trim().split('=')[1]?.replace(/:/g, '')).toBe(sha256);
    }
  });

  it('puts the leaf first when the file also holds its issuer', async () => {
    const ca = await generate([{ name: 'commonName', value: 'issuing CA' }], { keySize: 2048, algorithm: 'sha256', extensions: [{ name: 'basicConstraints', cA: true }] });
    const c = loadCertificate({ path: file('chain.pem', `${ca.cert}\n${cert}\n${key}`) });
    expect(c.thumbprintSha256).toBe(sha256);
    expect(c.x5c.indexOf(cert.trim().split('\n')[1] ?? '')).toBe(c.x5c.indexOf('\n') + 1);
  });

  it('decrypts an encrypted key with the password, and never prints the password', () => {
    const encrypted = createPrivateKey(key).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pem-Pa55' }).toString();
    const path = file('enc.pem', `${cert}\n${encrypted}`);
    expect(loadCertificate({ path, password: 'pem-Pa55' }).thumbprintSha256).toBe(sha256);
    expect(() => loadCertificate({ path })).toThrow(`exchange.certificate.path: ${path}: the private key is encrypted; set exchange.certificate.password`);
    const err = thrown(() => loadCertificate({ path, password: 'not-the-pa55' }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err?.message).toBe(`exchange.certificate.path: ${path}: cannot decrypt the private key with exchange.certificate.password`);
    expect(redact('x not-the-pa55')).toBe('x ***');
  });

  it('names what is missing or wrong', async () => {
    expect(() => loadCertificate({ path: file('only-cert.pem', cert) })).toThrow(/contains no private key/);
    expect(() => loadCertificate({ path: file('only-key.pem', key) })).toThrow(/contains no certificate/);
    const other = await generate(undefined, { keySize: 2048 });
    expect(() => loadCertificate({ path: file('mismatch.pem', `${cert}\n${other.private}`) })).toThrow(/the private key does not belong to any certificate/);
    expect(() => loadCertificate({ path: join(dir, 'nope.pem') })).toThrow(/nope\.pem: cannot read the file \(ENOENT\)/);
    const ec = await generate(undefined, { keyType: 'ec' });
    expect(() => loadCertificate({ path: file('ec.pem', `${ec.cert}\n${ec.private}`) })).toThrow(/must be RSA/);
    const old = await generate(undefined, { keySize: 2048, notBeforeDate: new Date('2020-01-01'), notAfterDate: new Date('2021-01-01') });
    expect(() => loadCertificate({ path: file('old.pem', `${old.cert}\n${old.private}`) })).toThrow(/the certificate expired on 2021-01-01/);
  });
});

/** One DER TLV at `pos`: its tag, its content (a view into `b`) and where the next one starts. */
function read(b: Buffer, pos: number): { tag: number; body: Buffer; end: number } {
  const tag = b[pos] as number;
  let len = b[pos + 1] as number;
  let p = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (b[p++] as number);
  }
  return { tag, body: b.subarray(p, p + len), end: p + len };
}

/** Re-encode the outer layers of a DER PFX the way Windows writes them: indefinite lengths, chunked OCTET STRINGs. */
function toBer(der: Buffer): Buffer {
  const definite = (tag: number, body: Buffer): Buffer => {
    const len = body.length;
    const bytes: number[] = [];
    for (let l = len; l > 0; l = Math.floor(l / 256)) bytes.unshift(l % 256);
    return Buffer.concat([Buffer.from(len < 0x80 ? [tag, len] : [tag, 0x80 | bytes.length, ...bytes]), body]);
  };
  const indefinite = (tag: number, parts: Buffer[]): Buffer => Buffer.concat([Buffer.from([tag, 0x80]), ...parts, Buffer.from([0, 0])]);
  // PFX ::= SEQUENCE { version, authSafe ContentInfo { oid, [0] { OCTET STRING } }, macData }
  const pfx = read(der, 0);
  const version = read(pfx.body, 0);
  const authSafe = read(pfx.body, version.end);
  const rest = pfx.body.subarray(authSafe.end);
  const oid = read(authSafe.body, 0);
  const explicit = read(authSafe.body, oid.end);
  const octets = read(explicit.body, 0).body;
  const chunks: Buffer[] = [];
  for (let i = 0; i < octets.length; i += 100) chunks.push(definite(0x04, octets.subarray(i, i + 100)));
  const ci = indefinite(0x30, [authSafe.body.subarray(0, oid.end), indefinite(0xa0, [indefinite(0x24, chunks)])]);
  return indefinite(0x30, [pfx.body.subarray(0, version.end), ci, rest]);
}

describe.skipIf(!openssl)('PFX', () => {
  const pfx = (name: string, extra: string[], pass = 'pfx-Pa55'): string => {
    const out = join(dir, name);
    sh(['pkcs12', '-export', '-in', join(dir, 'cert.pem'), '-inkey', join(dir, 'key.pem'), '-out', out, '-passout', `pass:${pass}`, ...extra]);
    return out;
  };

  it.each([
    ['OpenSSL 3 default (PBES2, AES-256, HMAC-SHA256)', 'aes.pfx', [] as string[]],
    ['older Windows (SHA1-3DES, SHA-1 MAC)', '3des.pfx', ['-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1']],
    ['certificates unencrypted', 'mixed.pfx', ['-certpbe', 'NONE']],
  ])('reads %s', (_label, name, extra) => {
    const c = loadCertificate({ path: pfx(name, extra), password: 'pfx-Pa55' });
    expect(c.thumbprintSha256).toBe(sha256);
    expect(c.privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('reads a BER-encoded (Windows-style) PFX', () => {
    const ber = toBer(readFileSync(pfx('der.pfx', [])));
    expect(ber.includes(Buffer.from([0x30, 0x80]))).toBe(true);
    expect(loadCertificate({ path: file('ber.pfx', ber), password: 'pfx-Pa55' }).thumbprintSha256).toBe(sha256);
  });

  it('reads a PFX without a password', () => {
    const path = pfx('open.pfx', ['-keypbe', 'NONE', '-certpbe', 'NONE'], '');
    expect(loadCertificate({ path }).thumbprintSha256).toBe(sha256);
  });

  it('says when the password is wrong or missing, naming the file and never printing the password', () => {
    const path = pfx('pw.pfx', []);
    const err = thrown(() => loadCertificate({ path, password: 'wrong-pfx-pass' }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err?.message).toBe(`exchange.certificate.path: ${path}: cannot open the PFX: wrong password (the integrity check with exchange.certificate.password fails)`);
    expect(err?.message).not.toContain('wrong-pfx-pass');
    expect(() => loadCertificate({ path })).toThrow(/no password was given; set exchange\.certificate\.password/);
  });

  // openssl 3 writes RC2-40 certificates and a 3DES key with -legacy (its legacy
  // provider); Node's own crypto cannot decrypt RC2, the library can.
  const legacy = spawnSync('openssl', ['list', '-cipher-algorithms', '-provider', 'legacy']).status === 0;
  it.skipIf(!legacy)('reads an OpenSSL 1.x style (-legacy: RC2-40 certificates, 3DES key, SHA-1 MAC) PFX', () => {
    const path = pfx('rc2.pfx', ['-legacy']);
    const info = spawnSync('openssl', ['pkcs12', '-in', path, '-info', '-noout', '-legacy', '-passin', 'pass:pfx-Pa55'], { encoding: 'utf8' });
    expect(info.stderr).toMatch(/pbeWithSHA1And40BitRC2-CBC/);
    expect(info.stderr).toMatch(/pbeWithSHA1And3-KeyTripleDES-CBC/);
    expect(loadCertificate({ path, password: 'pfx-Pa55' }).thumbprintSha256).toBe(sha256);
    expect(() => loadCertificate({ path, password: 'wrong-pfx-pass' })).toThrow(/cannot open the PFX: wrong password/);
  });

  it('reads a PFX with a non-ASCII password (BMPString for the MAC, UTF-8 for AES)', () => {
    const pass = 'pässwörd€';
    expect(loadCertificate({ path: pfx('utf8-aes.pfx', [], pass), password: pass }).thumbprintSha256).toBe(sha256);
    if (legacy) expect(loadCertificate({ path: pfx('utf8-rc2.pfx', ['-legacy'], pass), password: pass }).thumbprintSha256).toBe(sha256);
    expect(() => loadCertificate({ path: join(dir, 'utf8-aes.pfx'), password: 'passwörd€' })).toThrow(/wrong password/);
  });

  /** The MAC of a DER PFX: SEQUENCE { version, authSafe, macData { DigestInfo { alg, digest }, salt, iterations } }. */
  function macOf(file: Buffer): { algorithm: Buffer; digest: Buffer } {
    const body = read(file, 0).body;
    const version = read(body, 0);
    const authSafe = read(body, version.end);
    const digestInfo = read(read(body, authSafe.end).body, 0).body;
    const algorithm = read(digestInfo, 0);
    return { algorithm: algorithm.body, digest: read(digestInfo, algorithm.end).body };
  }

  it('refuses a PFX whose MAC was altered, even with the right password', () => {
    const bytes = readFileSync(pfx('mac.pfx', []));
    macOf(bytes).digest[0]! ^= 0xff; // a view into `bytes`
    const path = file('bad-mac.pfx', bytes);
    expect(() => loadCertificate({ path, password: 'pfx-Pa55' })).toThrow(
      `exchange.certificate.path: ${path}: cannot open the PFX: its integrity check (MAC) fails although the password decrypts it: the file is damaged or was altered`,
    );
    // Without the right password, PKCS#12 cannot tell the two apart.
    expect(() => loadCertificate({ path, password: 'wrong-pfx-pass' })).toThrow(/wrong password/);
  });

  it('refuses a PFX whose MAC uses a digest it does not know (it never skips the check)', () => {
    const bytes = readFileSync(pfx('mac-alg.pfx', []));
    // OpenSSL 3's MAC is HMAC-SHA256: OID 2.16.840.1.101.3.4.2.1 = 06 09 60 86 48 01 65 03 04 02 01.
    const oid = macOf(bytes).algorithm;
    expect(oid.subarray(0, 11).toString('hex')).toBe('0609608648016503040201');
    oid[10] = 0x7f; // 2.16.840.1.101.3.4.2.127: no such digest
    const path = file('unknown-mac.pfx', bytes);
    expect(() => loadCertificate({ path, password: 'pfx-Pa55' })).toThrow(/cannot read the PFX: its integrity check \(MAC\) uses an unsupported digest \(2\.16\.840\.1\.101\.3\.4\.2\.127\)/);
  });

  describe('an msal token request with the certificate from a PFX', () => {
    const CERT_APP = '00000000-0000-4000-8000-0000000000c2';
    let emu: Emulator;
    beforeAll(async () => {
      const fixture = loadFixture(DEMO_FIXTURE);
      fixture.apps.push({ clientId: CERT_APP, displayName: 'ownersync (PFX)', certificate: cert });
      emu = await start({ fixture });
    });
    afterAll(async () => {
      await emu?.stop();
      await closeSharedDispatchers();
    });

    it.each([
      ['OpenSSL 3 default (AES)', 'token-aes.pfx', [] as string[]],
      ['-legacy (RC2/3DES)', 'token-rc2.pfx', ['-legacy']],
    ])('%s', async (_label, name, extra) => {
      if (extra.includes('-legacy') && !legacy) return;
      const cfg = configFor(emu, { clientId: CERT_APP, certificate: { path: pfx(name, extra), password: 'pfx-Pa55' } });
      delete cfg.exchange.clientSecret;
      const token = await auth(emu, cfg).getToken();
      const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { appid: string; appidacr: string };
      // appidacr 2 = the client authenticated with a certificate.
      expect(claims).toMatchObject({ appid: CERT_APP, appidacr: '2' });
    });
  });

  it('rejects a file that is neither PEM nor PFX', () => {
    expect(() => loadCertificate({ path: file('junk.bin', Buffer.from('hello world, not a certificate')) })).toThrow(/junk\.bin: is neither a PEM file .* nor a PFX\/P12 file/);
  });
});
