/**
 * Test helpers: plain undici requests against a running emulator, trusting its CA
 * explicitly (NODE_EXTRA_CA_CERTS is read only at process start).
 */
import { Agent, request } from 'undici';
import { fileURLToPath } from 'node:url';
import type { Emulator } from '../../src/emulator/index.js';

export const DEMO_FIXTURE = fileURLToPath(new URL('../../examples/demo-tenant.yaml', import.meta.url));
export const DEMO_TENANT = '00000000-0000-4000-8000-000000000001';
export const DEMO_CLIENT = '00000000-0000-4000-8000-000000000002';
export const DEMO_SECRET = 'demo-secret-not-real';
export const HELLOID_AUTH = `Basic ${Buffer.from('demo-helloid-key:demo-helloid-secret-not-real').toString('base64')}`;

export interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export class Client {
  readonly agent: Agent;
  constructor(readonly emu: Emulator) {
    this.agent = new Agent({ connect: { ca: emu.caPem }, keepAliveTimeout: 1000 });
  }

  async call(
    method: string,
    path: string,
    opts: { headers?: Record<string, string>; body?: string | object; form?: Record<string, string>; timeoutMs?: number } = {},
  ): Promise<Res> {
    const headers: Record<string, string> = { ...opts.headers };
    let body: string | undefined;
    if (opts.form) {
      body = new URLSearchParams(opts.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else if (typeof opts.body === 'string') {
      body = opts.body;
    } else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
    }
    const url = path.startsWith('https://') ? path : `${this.emu.url}${path}`;
    const r = await request(url, {
      method: method as 'GET',
      headers,
      body,
      dispatcher: this.agent,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    });
    const text = await r.body.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: r.statusCode, headers: r.headers, text, json };
  }

  async token(): Promise<string> {
    const r = await this.call('POST', `/${this.emu.tenantId}/oauth2/v2.0/token`, {
      form: {
        client_id: this.emu.clientSettings().clientId,
        client_secret: this.emu.clientSettings().clientSecret ?? '',
        scope: 'https://outlook.office365.com/.default',
        grant_type: 'client_credentials',
      },
    });
    if (r.status !== 200) throw new Error(`token: ${r.status} ${r.text}`);
    return r.json.access_token as string;
  }

  private bearer?: string;
  async exo(
    cmdlet: string,
    parameters: Record<string, unknown> = {},
    opts: { headers?: Record<string, string>; url?: string; token?: string | null } = {},
  ): Promise<Res> {
    const send = (tok: string | null) => {
      const headers: Record<string, string> = { 'X-CmdletName': cmdlet, 'X-ResponseFormat': 'json', ...opts.headers };
      if (tok) headers.authorization = `Bearer ${tok}`;
      return this.call('POST', opts.url ?? `/adminapi/beta/${this.emu.tenantId}/InvokeCommand`, {
        headers,
        body: { CmdletInput: { CmdletName: cmdlet, Parameters: parameters } },
      });
    };
    if (opts.token !== undefined) return send(opts.token);
    this.bearer ??= await this.token();
    const r = await send(this.bearer);
    if (r.status !== 401) return r;
    // The cached token expired (a test expired it): fetch a new one, as a real client would.
    this.bearer = await this.token();
    return send(this.bearer);
  }

  /** Follow @odata.nextLink to the end, POSTing the same body. */
  async exoAll(cmdlet: string, parameters: Record<string, unknown>, headers: Record<string, string> = {}): Promise<{ pages: Res[]; items: Record<string, unknown>[] }> {
    const pages: Res[] = [];
    let url: string | undefined;
    for (;;) {
      const r = await this.exo(cmdlet, parameters, { headers, url });
      if (r.status !== 200) throw new Error(`${cmdlet}: ${r.status} ${r.text}`);
      pages.push(r);
      url = r.json['@odata.nextLink'];
      if (!url) break;
    }
    // An empty result has no `value` (as live).
    return { pages, items: pages.flatMap((p) => p.json.value ?? []) };
  }

  hid(method: string, path: string, body?: object, auth = HELLOID_AUTH): Promise<Res> {
    return this.call(method, path, { headers: { authorization: auth }, body });
  }

  control(method: string, path: string, body?: object): Promise<Res> {
    return this.call(method, path, { headers: { authorization: `Bearer ${this.emu.controlToken}` }, body });
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
