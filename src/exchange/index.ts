/** Exchange Online: Entra ID app-only token and the admin API client, mapped to core types. */
export { EntraAuth, createEntraAuth, type EntraAuthOptions, type TokenProvider } from './auth.js';
export { loadCertificate, type LoadedCertificate } from './certificate.js';
export { ExchangeClient, type ExchangeClientOptions } from './client.js';
export { MsalNetworkModule } from './msal-network.js';
export { createExchangeClient, type ExchangeSetupOptions } from './read.js';
export { ExchangeApiError } from './errors.js';
export { toPermissionEntries } from './wire.js';
export { checkExchangeOnline } from './online.js';
