/**
 * Reads a PKCS#12 (PFX/P12) file: the private keys and certificates inside, as DER,
 * for loadCertificate (certificate.ts). Node has no PFX parser of its own; node-forge
 * does the work (pure JavaScript, so it also reads the RC2-40 and SHA1-3DES files that
 * OpenSSL 1.x and older Windows write and that OpenSSL 3 without its legacy provider
 * cannot; pkijs, already installed through selfsigned, decrypts PBES2 only).
 *
 * The integrity check (MAC) is always verified when the file has one — forge refuses a
 * MAC digest it does not know — and a password-protected file without one is refused:
 * a MAC that does not verify means a wrong password or a damaged file, never "go on".
 * BER input (Windows' indefinite lengths, chunked OCTET STRINGs) is accepted.
 */
import forge from 'node-forge';

export class PfxError extends Error {}

export interface PfxContents {
  /** PKCS#8 PrivateKeyInfo, DER. */
  keys: Buffer[];
  /** X.509 certificates, DER, in file order. */
  certificates: Buffer[];
}

const { asn1, pki } = forge;

const toBuffer = (bytes: string): Buffer => Buffer.from(bytes, 'binary');
const der = (node: forge.asn1.Asn1): Buffer => toBuffer(asn1.toDer(node).getBytes());

/** forge's message for a MAC that does not verify (pkcs12.js). */
const MAC_MISMATCH = /MAC could not be verified/;
/** Our words for the two password failures, so readPfx can tell them from other errors. */
const MAC_FAILED = 'MAC mismatch';
const DOES_NOT_DECRYPT = 'wrong password (the private key does not decrypt)';

/**
 * The DER of a certificate forge decoded. forge keeps the TBSCertificate as read but
 * rebuilds the outer signature AlgorithmIdentifier; RFC 5280 §4.1.1.2 requires it to
 * equal the one inside the TBSCertificate, so that copy is used and the bytes (and so
 * the thumbprint) are the original ones.
 */
function certificateDer(cert: forge.pki.Certificate): Buffer {
  const tbs = (cert as unknown as { tbsCertificate: forge.asn1.Asn1 }).tbsCertificate;
  const fields = tbs.value as forge.asn1.Asn1[];
  // TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber, signature, … }
  const hasVersion = fields[0]?.tagClass === asn1.Class.CONTEXT_SPECIFIC;
  const signatureAlgorithm = fields[hasVersion ? 2 : 1];
  if (!signatureAlgorithm) throw new PfxError('a certificate in it is malformed');
  return der(
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      tbs,
      signatureAlgorithm,
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, String.fromCharCode(0) + cert.signature),
    ]),
  );
}

/** Keys and certificates out of the bags forge decoded (unknown key/cert types come as raw ASN.1). */
function contentsOf(p12: forge.pkcs12.Pkcs12Pfx): PfxContents {
  const out: PfxContents = { keys: [], certificates: [] };
  for (const safe of p12.safeContents) {
    for (const bag of safe.safeBags) {
      const raw = (bag as { asn1?: forge.asn1.Asn1 }).asn1;
      if (bag.type === pki.oids.certBag) {
        if (bag.cert) out.certificates.push(certificateDer(bag.cert));
        else if (raw) out.certificates.push(der(raw));
      } else if (bag.type === pki.oids.keyBag || bag.type === pki.oids.pkcs8ShroudedKeyBag) {
        if (bag.key) out.keys.push(der(pki.wrapRsaPrivateKey(pki.privateKeyToAsn1(bag.key as forge.pki.rsa.PrivateKey))));
        else if (raw) out.keys.push(der(raw));
      }
    }
  }
  return out;
}

/** forge's decoder, with its errors as PfxErrors worded for a user. */
function open(pfx: forge.asn1.Asn1, password: string | undefined): forge.pkcs12.Pkcs12Pfx {
  try {
    return forge.pkcs12.pkcs12FromAsn1(pfx, false, password as string);
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    if (MAC_MISMATCH.test(text)) throw new PfxError(MAC_FAILED);
    if (/wrong password|decrypt/i.test(text)) throw new PfxError(DOES_NOT_DECRYPT);
    if (/unsupported MAC algorithm/i.test(text)) throw new PfxError(`its integrity check (MAC) uses an unsupported digest (${text.split(': ').pop()})`);
    throw new PfxError(`not a PKCS#12 file this program can read (${text})`);
  }
}

/** The PFX without its MAC: for decrypting after the MAC was verified, or to word an error. */
function withoutMac(pfx: forge.asn1.Asn1): forge.asn1.Asn1 {
  return asn1.create(pfx.tagClass, pfx.type, true, (pfx.value as forge.asn1.Asn1[]).slice(0, 2));
}

/** Does the password decrypt the file's contents when the MAC is left out? Only to word an error. */
function decryptsWithoutMac(pfx: forge.asn1.Asn1, password: string): boolean {
  for (const pw of [password, forge.util.encodeUtf8(password)]) {
    try {
      if (contentsOf(forge.pkcs12.pkcs12FromAsn1(withoutMac(pfx), false, pw)).keys.length > 0) return true;
    } catch {
      // try the next form
    }
  }
  return false;
}

/**
 * Keys and certificates of a PFX. `password` undefined means "none given": both the
 * empty password and no password at all are tried, as Windows and OpenSSL differ there.
 */
export function readPfx(file: Buffer, password: string | undefined): PfxContents {
  let pfx: forge.asn1.Asn1;
  try {
    pfx = asn1.fromDer(forge.util.createBuffer(file.toString('binary')), false);
  } catch {
    throw new PfxError('not a PKCS#12 file (its ASN.1 structure cannot be read)');
  }
  const hasMac = Array.isArray(pfx.value) && pfx.value.length > 2;
  if (!hasMac && password !== undefined) throw new PfxError('it has no integrity check (MAC), so the password cannot be verified');

  const candidates = password !== undefined ? [password] : ['', undefined];
  for (const candidate of candidates) {
    try {
      return contentsOf(open(pfx, candidate));
    } catch (err) {
      if (err instanceof PfxError && err.message === MAC_FAILED) continue;
      // The MAC was verified before decryption failed, so the password is right. PKCS#12's
      // own PBEs (3DES, RC2) and the MAC take it as BMPString, PBES2 (AES) as UTF-8 bytes,
      // and forge takes one string for both: a non-ASCII password is given again as UTF-8.
      if (hasMac && err instanceof PfxError && err.message === DOES_NOT_DECRYPT && candidate && Buffer.byteLength(candidate, 'utf8') !== candidate.length) {
        return contentsOf(open(withoutMac(pfx), forge.util.encodeUtf8(candidate)));
      }
      throw err;
    }
  }
  if (password === undefined) throw new PfxError('it is password-protected and no password was given');
  // PKCS#12 cannot tell a wrong password from a damaged file; if the password does
  // decrypt the key, the MAC itself (or the data it covers) is what is wrong.
  if (decryptsWithoutMac(pfx, password)) {
    throw new PfxError('its integrity check (MAC) fails although the password decrypts it: the file is damaged or was altered');
  }
  throw new PfxError('wrong password (the integrity check with exchange.certificate.password fails)');
}
