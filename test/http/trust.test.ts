/**
 * TLS trust: Node's default store is kept, so NODE_EXTRA_CA_CERTS works, and an
 * explicit extra CA adds to it rather than replacing it. NODE_EXTRA_CA_CERTS is read
 * at process start, so those cases run the client in a child Node process (the
 * HTTP layer is transpiled on the fly for it).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient, HttpError, closeSharedDispatchers } from '../../src/http/index.js';
import { startServer, type TestServer } from './server.js';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
// Inside the project so the child resolves `undici` from node_modules.
const work = join(root, 'node_modules', '.cache', `ownersync-trust-${process.pid}`);

let serverA: TestServer;
let serverB: Server;
let urlB: string;
let caB: string;

/** Transpile src/http/*.ts, src/errors.ts and src/redact.ts to plain ESM for the child. */
function transpile(): void {
  const files = [
    ...readdirSync(join(root, 'src/http')).map((f) => `src/http/${f}`),
    'src/errors.ts',
    'src/redact.ts',
  ].filter((f) => f.endsWith('.ts'));
  for (const f of files) {
    const out = ts.transpileModule(readFileSync(join(root, f), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    const target = join(work, f.replace(/\.ts$/, '.js'));
    mkdirSync(resolve(target, '..'), { recursive: true });
    writeFileSync(target, out);
  }
  writeFileSync(join(work, 'package.json'), '{"type":"module"}');
}

beforeAll(async () => {
  serverA = await startServer((_req, res) => res.end('A'));
  // A distinct subject: OpenSSL looks trust anchors up by name.
  const b = await generate([{ name: 'commonName', value: 'ownersync test CA B' }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
    ],
  });
  caB = b.cert;
  serverB = createServer({ cert: b.cert, key: b.private }, (_req, res) => res.end('B'));
  await new Promise<void>((r) => serverB.listen(0, '127.0.0.1', r));
  urlB = `https://127.0.0.1:${(serverB.address() as AddressInfo).port}`;
  transpile();
  writeFileSync(join(work, 'ca-a.pem'), serverA.caPem);
});

afterAll(async () => {
  await closeSharedDispatchers();
  await serverA.close();
  serverB.closeAllConnections();
  await new Promise<void>((r) => serverB.close(() => r()));
  rmSync(work, { recursive: true, force: true });
});

/** Runs a GET in a child with NODE_EXTRA_CA_CERTS = server A's CA; prints the body or the error. */
async function child(url: string, caPem?: string): Promise<string> {
  const script = `
    import { HttpClient } from './src/http/index.js';
    const c = new HttpClient({ service: 'entra', maxAttempts: 1 ${caPem ? ', caPem: process.env.EXTRA_PEM' : ''} });
    try { const r = await c.request(process.argv[2]); console.log('OK ' + r.text); }
    catch (e) { console.log('ERR ' + e.message); }
    process.exit(0);
  `;
  writeFileSync(join(work, 'child.mjs'), script);
  const { stdout } = await run(process.execPath, [join(work, 'child.mjs'), url], {
    cwd: work,
    env: { ...process.env, NODE_EXTRA_CA_CERTS: join(work, 'ca-a.pem'), EXTRA_PEM: caPem ?? '', HTTPS_PROXY: '', https_proxy: '' },
  });
  return stdout.trim();
}

describe('TLS trust', () => {
  it('refuses an untrusted certificate without retrying, with a hint', async () => {
    serverA.reset();
    const c = new HttpClient({ service: 'helloid' });
    const err = (await c.request(`${serverA.url}/x`).catch((e: unknown) => e)) as HttpError;
    expect(err).toBeInstanceOf(HttpError);
    expect(err.message).toMatch(/^GET https:\/\/127\.0\.0\.1:\d+\/x failed: TLS certificate not trusted \(.+\); .*NODE_EXTRA_CA_CERTS/);
    expect(err.attempts).toBe(1);
  });

  it('trusts NODE_EXTRA_CA_CERTS when no CA is configured', async () => {
    expect(await child(`${serverA.url}/x`)).toBe('OK A');
    expect(await child(`${urlB}/x`)).toMatch(/^ERR .*TLS certificate not trusted/);
  });

  it('keeps NODE_EXTRA_CA_CERTS (and public roots) when an extra CA is configured', async () => {
    expect(await child(`${urlB}/x`, caB)).toBe('OK B');
    expect(await child(`${serverA.url}/x`, caB)).toBe('OK A');
  });
});
