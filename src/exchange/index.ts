/** Exchange Online: Entra ID app-only token and the admin API client, mapped to core types. */
export { EntraAuth, createEntraAuth, type EntraAuthOptions, type TokenProvider } from './auth.js';
export { loadCertificate, type LoadedCertificate } from './certificate.js';
export { ExchangeClient, type ExchangeClientOptions, type ExchangePhase } from './client.js';
export { MsalNetworkModule } from './msal-network.js';
export { createExchangeClient, readExchange, type ExchangeSetupOptions, type ReadExchangeOptions } from './read.js';
export { toMailbox, toPermissionEntries, toUser, toGroupMember } from './wire.js';
export { checkExchangeOnline } from './online.js';
