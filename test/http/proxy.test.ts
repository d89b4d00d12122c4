/**
 * HTTPS_PROXY / NO_PROXY through a tiny local CONNECT proxy started by the test.
 */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient, HttpError, closeSharedDispatchers } from '../../src/http/index.js';
import { startServer, type TestServer } from './server.js';

let server: TestServer;
let proxy: Server;
let proxyUrl: string;
let connects: string[];
let proxyAuth: Array<string | undefined>;
let requireAuth = false;
const sockets = new Set<Socket>();
const saved = { ...process.env };

beforeAll(async () => {
  server = await startServer((_req, res) => res.end('via-target'));
  proxy = createServer((_req, res) => {
    res.statusCode = 405;
    res.end();
  });
  proxy.on('connect', (req, clientSocket: Socket, head: Buffer) => {
    connects.push(req.url ?? '');
    proxyAuth.push(req.headers['proxy-authorization']);
    sockets.add(clientSocket);
    if (requireAuth) {
      clientSocket.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n');
      return;
    }
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host ?? '127.0.0.1', () => {
      clientSocket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(clientSocket);
      clientSocket.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('error', () => clientSocket.destroy());
    clientSocket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

afterEach(async () => {
  for (const k of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy']) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  requireAuth = false;
  await closeSharedDispatchers();
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => proxy.close(() => r()));
  await server.close();
});

function clearProxyEnv(): void {
  for (const k of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy']) delete process.env[k];
  connects = [];
  proxyAuth = [];
}

const targetHost = (): string => new URL(server.url).host;

describe('proxy', () => {
  it('tunnels through HTTPS_PROXY', async () => {
    clearProxyEnv();
    process.env.HTTPS_PROXY = proxyUrl;
    const c = new HttpClient({ service: 'helloid', caPem: server.caPem });
    const res = await c.request(`${server.url}/api/v1/users`);
    expect(res.text).toBe('via-target');
    expect(connects).toEqual([targetHost()]);
  });

  it('honours lower-case https_proxy', async () => {
    clearProxyEnv();
    process.env.https_proxy = proxyUrl;
    const c = new HttpClient({ service: 'entra', caPem: server.caPem });
    expect((await c.request(`${server.url}/t`)).text).toBe('via-target');
    expect(connects).toEqual([targetHost()]);
  });

  it('bypasses the proxy for NO_PROXY hosts', async () => {
    clearProxyEnv();
    process.env.HTTPS_PROXY = proxyUrl;
    process.env.NO_PROXY = 'login.example.com, localhost,127.0.0.1';
    const c = new HttpClient({ service: 'exchange', caPem: server.caPem });
    expect((await c.request(`${server.url}/n`)).text).toBe('via-target');
    expect(connects).toEqual([]);
  });

  it('sends proxy credentials but never prints them', async () => {
    clearProxyEnv();
    requireAuth = true;
    const u = new URL(proxyUrl);
    u.username = 'proxyuser';
    u.password = 'proxy-pa55word';
    process.env.HTTPS_PROXY = u.toString();
    const c = new HttpClient({ service: 'helloid', caPem: server.caPem, maxAttempts: 1 });
    const err = (await c.request(`${server.url}/z`).catch((e: unknown) => e)) as HttpError;
    expect(err).toBeInstanceOf(HttpError);
    expect(proxyAuth[0]).toBe(`Basic ${Buffer.from('proxyuser:proxy-pa55word').toString('base64')}`);
    expect(err.message).toContain(`GET ${server.url}/z failed:`);
    expect(err.message).not.toContain('proxy-pa55word');
    expect(err.message).not.toContain(Buffer.from('proxyuser:proxy-pa55word').toString('base64'));
  });
});
