/** HelloID: API client (reads + idempotent member writes), mapped to core types. */
export { HelloIdClient, type HelloIdClientOptions } from './client.js';
export { createHelloIdClient, type HelloIdSetupOptions } from './read.js';
export type { AddOutcome, HelloIdWriteApi, RemoveOutcome } from './types.js';
export { checkHelloIdOnline } from './online.js';
