/**
 * serveFixture, what `ownersync emulator` runs: the flags reach the emulator it starts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeSharedDispatchers } from '../../src/http/index.js';
import { serveFixture } from '../../src/sync/emulator-session.js';
import { configFor, exchangeClient } from '../clients/helpers.js';

afterAll(async () => closeSharedDispatchers());

describe('serveFixture', () => {
  it('--log-limit bounds the request log /_emulator/stats returns (the bench raises it for a complete timeline)', async () => {
    const served = await serveFixture({ port: 0, faults: {}, logLimit: 2 });
    try {
      if (served.kind !== 'fixture') throw new Error('expected a fixture emulator');
      const { client } = exchangeClient(served.emu, configFor(served.emu));
      await client.listMailboxes();
      await client.listUsers();
      const stats = served.emu.stats();
      // A token request, Get-Mailbox and Get-User at least: more than the log keeps.
      expect(stats.totals.requests).toBeGreaterThanOrEqual(3);
      expect(stats.log.map((e) => e.cmdlet)).toEqual(['Get-Mailbox', 'Get-User']);
    } finally {
      await served.stop();
    }
  });
});
