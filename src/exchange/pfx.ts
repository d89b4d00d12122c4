/**
 * A small PKCS#12 (PFX/P12) reader: enough to pull the private key and certificates
 * out of the files Windows (Export-PfxCertificate), Azure Key Vault and OpenSSL write.
 * Node has no PFX parser of its own, and this avoids a dependency for ~200 lines.
 *
 * Supported encryption: PBES2 (PBKDF2 + AES-128/192/256-CBC or 3DES, OpenSSL 3's and
 * modern Windows' default) and the PKCS#12 PBE with SHA-1 and 3DES (older Windows).
 * RC2 (OpenSSL 1.x's default for certificates) is not available in OpenSSL 3's
 * default provider; such a file gets an error telling how to convert it to PEM.
 *
 * The input is BER, not just DER: Windows writes indefinite lengths and chunked
 * (constructed) OCTET STRINGs.
 */
import { createDecipheriv, createHash, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';

export class PfxError extends Error {}

// ---------------------------------------------------------------------------------
// BER

interface Asn1 {
  /** Class + constructed bit + tag number, as the first identifier octet (tags < 31 only). */
  tag: number;
  constructed: boolean;
  /** Contents of a primitive node. */
  value: Buffer;
  children: Asn1[];
}

function readNode(buf: Buffer, start: number): { node: Asn1; end: number } {
  let pos = start;
  if (pos + 2 > buf.length) throw new PfxError('truncated ASN.1 data');
  const tag = buf[pos++] as number;
  if ((tag & 0x1f) === 0x1f) throw new PfxError('unsupported ASN.1 tag');
  const constructed = (tag & 0x20) !== 0;
  let len = buf[pos++] as number;
  let indefinite = false;
  if (len === 0x80) {
    indefinite = true;
  } else if (len > 0x80) {
    const n = len & 0x7f;
    if (n > 4 || pos + n > buf.length) throw new PfxError('bad ASN.1 length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[pos++] as number);
  }
  if (!constructed) {
    if (indefinite || pos + len > buf.length) throw new PfxError('bad ASN.1 length');
    return { node: { tag, constructed, value: buf.subarray(pos, pos + len), children: [] }, end: pos + len };
  }
  const children: Asn1[] = [];
  if (indefinite) {
    while (!(buf[pos] === 0 && buf[pos + 1] === 0)) {
      const r = readNode(buf, pos);
      children.push(r.node);
      pos = r.end;
    }
    return { node: { tag, constructed, value: Buffer.alloc(0), children }, end: pos + 2 };
  }
  const end = pos + len;
  if (end > buf.length) throw new PfxError('bad ASN.1 length');
  while (pos < end) {
    const r = readNode(buf, pos);
    children.push(r.node);
    pos = r.end;
  }
  return { node: { tag, constructed, value: Buffer.alloc(0), children }, end };
}

function parse(buf: Buffer): Asn1 {
  return readNode(buf, 0).node;
}

function child(n: Asn1 | undefined, i: number): Asn1 {
  const c = n?.children[i];
  if (!c) throw new PfxError('unexpected PKCS#12 structure');
  return c;
}

/** OCTET STRING contents, joining the chunks of a constructed one. */
function octets(n: Asn1): Buffer {
  return n.constructed ? Buffer.concat(n.children.map(octets)) : n.value;
}

function oid(n: Asn1): string {
  if (n.tag !== 0x06) throw new PfxError('expected an OBJECT IDENTIFIER');
  const b = n.value;
  const first = b[0] as number;
  const parts = [Math.floor(first / 40), first % 40];
  let acc = 0;
  for (let i = 1; i < b.length; i++) {
    const byte = b[i] as number;
    acc = acc * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      parts.push(acc);
      acc = 0;
    }
  }
  return parts.join('.');
}

function int(n: Asn1): number {
  if (n.tag !== 0x02) throw new PfxError('expected an INTEGER');
  let v = 0;
  for (const byte of n.value) v = v * 256 + byte;
  return v;
}

/** Re-encode a node as DER-ish bytes (definite lengths) — used for the decrypted PKCS#8 key. */
function encode(n: Asn1): Buffer {
  const body = n.constructed ? Buffer.concat(n.children.map(encode)) : n.value;
  const len = body.length;
  let header: Buffer;
  if (len < 0x80) header = Buffer.from([n.tag, len]);
  else {
    const bytes: number[] = [];
    for (let l = len; l > 0; l = Math.floor(l / 256)) bytes.unshift(l % 256);
    header = Buffer.from([n.tag, 0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([header, body]);
}

// ---------------------------------------------------------------------------------
// OIDs

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  pbeSha1_3des: '1.2.840.113549.1.12.1.3',
  pbeSha1_2des: '1.2.840.113549.1.12.1.4',
  pbeSha1_rc2_128: '1.2.840.113549.1.12.1.5',
  pbeSha1_rc2_40: '1.2.840.113549.1.12.1.6',
} as const;

const HMAC_PRF: Record<string, string> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.8': 'sha224',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
};

const CIPHERS: Record<string, { name: string; keyLength: number }> = {
  '2.16.840.1.101.3.4.1.2': { name: 'aes-128-cbc', keyLength: 16 },
  '2.16.840.1.101.3.4.1.22': { name: 'aes-192-cbc', keyLength: 24 },
  '2.16.840.1.101.3.4.1.42': { name: 'aes-256-cbc', keyLength: 32 },
  '1.2.840.113549.3.7': { name: 'des-ede3-cbc', keyLength: 24 },
};

const DIGESTS: Record<string, { name: string; blockSize: number }> = {
  '1.3.14.3.2.26': { name: 'sha1', blockSize: 64 },
  '2.16.840.1.101.3.4.2.4': { name: 'sha224', blockSize: 64 },
  '2.16.840.1.101.3.4.2.1': { name: 'sha256', blockSize: 64 },
  '2.16.840.1.101.3.4.2.2': { name: 'sha384', blockSize: 128 },
  '2.16.840.1.101.3.4.2.3': { name: 'sha512', blockSize: 128 },
};

// ---------------------------------------------------------------------------------
// Key derivation and decryption

/** The password as PKCS#12 wants it for its own KDF: UTF-16BE with a terminating NUL. */
function bmpPassword(password: string | null): Buffer {
  if (password === null) return Buffer.alloc(0);
  const le = Buffer.from(`${password}\u0000`, 'utf16le');
  for (let i = 0; i < le.length; i += 2) {
    const t = le[i] as number;
    le[i] = le[i + 1] as number;
    le[i + 1] = t;
  }
  return le;
}

/** RFC 7292 appendix B.2 key derivation. */
function p12kdf(hash: string, blockSize: number, password: Buffer, salt: Buffer, id: number, iterations: number, size: number): Buffer {
  const u = createHash(hash).digest().length;
  const v = blockSize;
  const fill = (src: Buffer): Buffer => {
    if (src.length === 0) return Buffer.alloc(0);
    const out = Buffer.alloc(v * Math.ceil(src.length / v));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length] as number;
    return out;
  };
  const D = Buffer.alloc(v, id);
  const I = Buffer.concat([fill(salt), fill(password)]);
  const out: Buffer[] = [];
  for (let produced = 0; produced < size; produced += u) {
    let A = createHash(hash).update(D).update(I).digest();
    for (let r = 1; r < iterations; r++) A = createHash(hash).update(A).digest();
    out.push(A);
    const B = Buffer.alloc(v);
    for (let i = 0; i < v; i++) B[i] = A[i % u] as number;
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = (I[j + k] as number) + (B[k] as number) + carry;
        I[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(out).subarray(0, size);
}

function decipher(name: string, key: Buffer, iv: Buffer, data: Buffer): Buffer {
  try {
    const d = createDecipheriv(name, key, iv);
    return Buffer.concat([d.update(data), d.final()]);
  } catch {
    throw new PfxError('wrong password (decryption failed)');
  }
}

/** Decrypt `data` encrypted with the AlgorithmIdentifier `alg`. */
function decrypt(alg: Asn1, data: Buffer, password: string | null): Buffer {
  const algOid = oid(child(alg, 0));
  const params = alg.children[1];
  if (algOid === OID.pbes2) {
    const kdf = child(params, 0);
    const scheme = child(params, 1);
    if (oid(child(kdf, 0)) !== OID.pbkdf2) throw new PfxError('unsupported key derivation (only PBKDF2)');
    const kdfParams = child(kdf, 1);
    const salt = octets(child(kdfParams, 0));
    const iterations = int(child(kdfParams, 1));
    let prf = 'sha1';
    for (const extra of kdfParams.children.slice(2)) {
      if (extra.tag === 0x30) {
        prf = HMAC_PRF[oid(child(extra, 0))] ?? '';
        if (!prf) throw new PfxError('unsupported PBKDF2 pseudo-random function');
      }
    }
    const cipher = CIPHERS[oid(child(scheme, 0))];
    if (!cipher) throw new PfxError('unsupported cipher (only AES-CBC and 3DES)');
    const iv = octets(child(scheme, 1));
    // PBES2 takes the password as UTF-8 bytes (unlike the PKCS#12 KDF).
    const key = pbkdf2Sync(Buffer.from(password ?? '', 'utf8'), salt, iterations, cipher.keyLength, prf);
    return decipher(cipher.name, key, iv, data);
  }
  if (algOid === OID.pbeSha1_3des || algOid === OID.pbeSha1_2des) {
    const salt = octets(child(params, 0));
    const iterations = int(child(params, 1));
    const pw = bmpPassword(password);
    const keyLength = algOid === OID.pbeSha1_3des ? 24 : 16;
    const key = p12kdf('sha1', 64, pw, salt, 1, iterations, keyLength);
    const iv = p12kdf('sha1', 64, pw, salt, 2, iterations, 8);
    return decipher(algOid === OID.pbeSha1_3des ? 'des-ede3-cbc' : 'des-ede-cbc', key, iv, data);
  }
  if (algOid === OID.pbeSha1_rc2_40 || algOid === OID.pbeSha1_rc2_128) {
    throw new PfxError('it is encrypted with RC2, which current OpenSSL no longer supports');
  }
  throw new PfxError(`unsupported encryption algorithm ${algOid}`);
}

/** Verify the integrity MAC; returns false on a wrong password. Unknown digests are not checked. */
function macMatches(macData: Asn1, content: Buffer, password: string | null): boolean {
  const digestInfo = child(macData, 0);
  const digest = DIGESTS[oid(child(child(digestInfo, 0), 0))];
  if (!digest) return true;
  const expected = octets(child(digestInfo, 1));
  const salt = octets(child(macData, 1));
  const iterations = macData.children[2] ? int(macData.children[2]) : 1;
  const size = createHash(digest.name).digest().length;
  const key = p12kdf(digest.name, digest.blockSize, bmpPassword(password), salt, 3, iterations, size);
  const actual = createHmac(digest.name, key).update(content).digest();
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

// ---------------------------------------------------------------------------------
// Structure

export interface PfxContents {
  /** PKCS#8 PrivateKeyInfo, DER. */
  keys: Buffer[];
  /** X.509 certificates, DER, in file order. */
  certificates: Buffer[];
}

function readSafeContents(der: Buffer, password: string | null, out: PfxContents): void {
  const safeContents = parse(der);
  for (const bag of safeContents.children) {
    const bagId = oid(child(bag, 0));
    const value = child(child(bag, 1), 0);
    if (bagId === OID.keyBag) {
      out.keys.push(encode(value));
    } else if (bagId === OID.shroudedKeyBag) {
      // EncryptedPrivateKeyInfo ::= SEQUENCE { AlgorithmIdentifier, OCTET STRING }
      out.keys.push(decrypt(child(value, 0), octets(child(value, 1)), password));
    } else if (bagId === OID.certBag) {
      if (oid(child(value, 0)) === OID.x509Certificate) out.certificates.push(octets(child(child(value, 1), 0)));
    }
  }
}

/**
 * Keys and certificates of a PFX. `password` undefined means "none given": both the
 * empty password and no password are tried, as Windows and OpenSSL differ there.
 */
export function readPfx(file: Buffer, password: string | undefined): PfxContents {
  const pfx = parse(file);
  const authSafe = child(pfx, 1);
  if (oid(child(authSafe, 0)) !== OID.data) throw new PfxError('public-key integrity mode is not supported');
  const content = octets(child(child(authSafe, 1), 0));
  const macData = pfx.children[2];

  const candidates: Array<string | null> = password !== undefined ? [password] : ['', null];
  let pw: string | null | undefined;
  if (macData) {
    pw = candidates.find((c) => macMatches(macData, content, c));
    if (pw === undefined) throw new PfxError(password === undefined ? 'it is password-protected and no password was given' : 'wrong password');
  } else {
    pw = candidates[0] as string | null;
  }

  const out: PfxContents = { keys: [], certificates: [] };
  for (const info of parse(content).children) {
    const type = oid(child(info, 0));
    if (type === OID.data) {
      readSafeContents(octets(child(child(info, 1), 0)), pw, out);
    } else if (type === OID.encryptedData) {
      // EncryptedData ::= SEQUENCE { version, EncryptedContentInfo { type, alg, [0] IMPLICIT content } }
      const eci = child(child(child(info, 1), 0), 1);
      const encrypted = eci.children[2];
      if (!encrypted) continue;
      readSafeContents(decrypt(child(eci, 1), octets(encrypted), pw), pw, out);
    }
  }
  return out;
}
