/**
 * msal-node's `system.networkClient` built on our HttpClient, so the token requests
 * get the same proxy, CA, timeouts and retries as everything else (msal's own client
 * uses the global fetch and ignores all of that).
 *
 * msal wants the status and parsed JSON body of 4xx replies (it turns AADSTS errors
 * into ServerErrors itself), so those are returned; 429/5xx are retried and, when they
 * persist, thrown. msal replaces a thrown error with a bare "network_error", so the
 * last error is kept here for auth.ts to report instead.
 */
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import type { HttpClient } from '../http/index.js';

export class MsalNetworkModule implements INetworkModule {
  /** The last error thrown to msal (HttpError naming method, URL and cause). */
  lastError: unknown;

  constructor(private readonly http: HttpClient) {}

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>('GET', url, options);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>('POST', url, options);
  }

  private async send<T>(method: 'GET' | 'POST', url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    try {
      const res = await this.http.request(url, {
        method,
        headers: options?.headers ?? {},
        ...(method === 'POST' ? { body: options?.body ?? '' } : {}),
        label: method === 'POST' ? 'token request' : undefined,
        acceptStatuses: (s) => s >= 400 && s < 500 && s !== 429 && s !== 408,
      });
      let body: unknown = {};
      if (res.text.trim() !== '') body = res.json();
      return { headers: res.headers, body: body as T, status: res.status };
    } catch (err) {
      this.lastError = err;
      throw err;
    }
  }
}
