/**
 * TLS material made fresh at every start: a throwaway CA and a server certificate it
 * signs (SAN IP 127.0.0.1 and DNS localhost). msal-node refuses http:// authorities,
 * so the emulator must speak HTTPS, and clients trust it through the CA alone
 * (explicitly in-process, NODE_EXTRA_CA_CERTS for child processes). EC P-256 keys
 * keep generation to a few milliseconds.
 */
import { randomBytes } from 'node:crypto';
import { generate } from 'selfsigned';

export interface TlsMaterial {
  caPem: string;
  serverCertPem: string;
  serverKeyPem: string;
}

export async function makeTlsMaterial(): Promise<TlsMaterial> {
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(Date.now() + 30 * 86_400_000);
  // A unique CA name per start: OpenSSL looks trust anchors up by subject name, so two
  // emulator CAs with one name in one trust store would shadow each other.
  const caName = `ownersync emulator CA (throwaway ${randomBytes(6).toString('hex')})`;
  const ca = await generate([{ name: 'commonName', value: caName }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const server = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] },
    ],
  });
  return { caPem: ca.cert, serverCertPem: server.cert, serverKeyPem: server.private };
}
