/**
 * A host that does not resolve is reported with the configuration key that set it and
 * the proxy variables, instead of a bare ENOTFOUND. `.invalid` never resolves (RFC 6761);
 * whether the resolver answers ENOTFOUND or (offline) EAI_AGAIN, both get the message.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { HttpClient, HttpError, closeSharedDispatchers } from '../../src/http/index.js';
import { describeNetworkError } from '../../src/http/backoff.js';

const TIMEOUTS = { headersMs: 1, bodyMs: 1, connectMs: 1 };

describe('an unresolvable host', () => {
  afterAll(() => closeSharedDispatchers());

  it('names the setting and HTTPS_PROXY/NO_PROXY', () => {
    const err = Object.assign(new Error('getaddrinfo ENOTFOUND contoso.helloid.example'), { code: 'ENOTFOUND' });
    expect(describeNetworkError(err, TIMEOUTS, 'helloid.baseUrl')).toBe(
      'the host name could not be resolved (ENOTFOUND); check helloid.baseUrl in the configuration. If this network reaches the internet through a proxy, set HTTPS_PROXY (and NO_PROXY for hosts reached directly)',
    );
    const again = Object.assign(new Error('getaddrinfo EAI_AGAIN x'), { code: 'EAI_AGAIN' });
    expect(describeNetworkError(again, TIMEOUTS)).toBe(
      'the host name could not be resolved (EAI_AGAIN). If this network reaches the internet through a proxy, set HTTPS_PROXY (and NO_PROXY for hosts reached directly)',
    );
  });

  it('the client passes its hostSetting into the error it throws', async () => {
    // Without a proxy: a proxy would answer instead of the resolver (test/http/proxy.test.ts covers that path).
    const proxyVars = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'];
    const saved = Object.fromEntries(proxyVars.map((k) => [k, process.env[k]]));
    for (const k of proxyVars) delete process.env[k];
    await closeSharedDispatchers();
    const http = new HttpClient({ service: 'helloid', hostSetting: 'helloid.baseUrl', maxAttempts: 1 });
    const err = await http
      .request('https://ownersync-test.invalid/api/v1/users')
      .catch((e: unknown) => e)
      .finally(() => {
        for (const k of proxyVars) if (saved[k] !== undefined) process.env[k] = saved[k];
      });
    expect(err).toBeInstanceOf(HttpError);
    const message = (err as HttpError).message;
    expect(message).toMatch(/^GET https:\/\/ownersync-test\.invalid\/api\/v1\/users failed: the host name could not be resolved \((ENOTFOUND|EAI_AGAIN)\); check helloid\.baseUrl in the configuration\. /);
    expect(message).toContain('HTTPS_PROXY');
  });
});
