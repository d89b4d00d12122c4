/**
 * A real local HTTPS server for the HTTP-layer tests (127.0.0.1, port 0), with a
 * certificate from `selfsigned`, a swappable handler, and an in-flight counter.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { generate } from 'selfsigned';

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => unknown;

export interface TestServer {
  url: string;
  caPem: string;
  setHandler(h: Handler): void;
  /** Requests received since the last reset. */
  readonly count: number;
  readonly maxInFlight: number;
  readonly inFlight: number;
  /** Request log (method, url, headers) since the last reset. */
  readonly log: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }>;
  reset(): void;
  close(): Promise<void>;
}

let certPromise: Promise<{ cert: string; key: string }> | undefined;

/** One certificate per test process (RSA key generation is the slow part). */
export function testCertificate(): Promise<{ cert: string; key: string }> {
  certPromise ??= generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  }).then((p) => ({ cert: p.cert, key: p.private }));
  return certPromise;
}

export async function startServer(initial?: Handler): Promise<TestServer> {
  const { cert, key } = await testCertificate();
  let handler: Handler = initial ?? ((_req, res) => res.end('ok'));
  let count = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let log: TestServer['log'] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer({ cert, key }, (req, res) => {
    count++;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let done = false;
    const finish = (): void => {
      if (!done) {
        done = true;
        inFlight--;
      }
    };
    res.on('finish', finish);
    res.on('close', finish);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      log.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      Promise.resolve(handler(req, res, body)).catch((err: unknown) => {
        res.statusCode = 599;
        res.end(String(err));
      });
    });
  });
  server.on('secureConnection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    caPem: cert,
    setHandler(h) {
      handler = h;
    },
    get count() {
      return count;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    get inFlight() {
      return inFlight;
    },
    get log() {
      return log;
    },
    reset() {
      count = 0;
      maxInFlight = inFlight;
      log = [];
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
