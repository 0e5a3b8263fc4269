// Regression (found by the fault test, test/faults): a PostgreSQL restart killed every worker process. A
// connection checked out of the pool has no 'error' listener, and the server's FATAL "terminating
// connection due to administrator command" arriving between two statements of a held transaction was
// emitted as an unheard 'error' event: an uncaught exception. Here the same FATAL comes from
// pg_terminate_backend on the store's own backend, found by a unique application_name.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../engine/harness.js';
import { dropSchemas, pgStore, postgresAvailable, TEST_DATABASE_URL } from '../helpers/postgres.js';

afterAll(() => dropSchemas());

describe.runIf(postgresAvailable)('PostgreSQL store: the server ends a connection a transaction holds', () => {
  const origEmit = pg.Client.prototype.emit;
  afterEach(() => {
    pg.Client.prototype.emit = origEmit;
  });

  it('fails that transaction, leaves the process running and the store usable', async () => {
    const app = `bf_conn_loss_${randomBytes(4).toString('hex')}`;
    const store = await pgStore({ connectionString: `${TEST_DATABASE_URL}?application_name=${app}`, listen: false });
    // Every client 'error' event, and whether anyone heard it: unheard, EventEmitter throws (the crash);
    // swallowed here so that the test fails by its assertion rather than by killing the test worker.
    const errors: Array<{ message: string; heard: boolean }> = [];
    pg.Client.prototype.emit = function (this: pg.Client, event: string | symbol, ...args: unknown[]) {
      if (event === 'error') {
        const heard = this.listenerCount('error') > 0;
        errors.push({ message: (args[0] as Error)?.message, heard });
        if (!heard) return false;
      }
      return origEmit.call(this, event, ...args);
    } as typeof origEmit;
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    try {
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const tx = store.engineTx(async (t) => {
        await t.instance('no-such-instance');
        await held; // between two statements: the connection is checked out, no query active
        return t.instance('no-such-instance');
      });
      const outcome = tx.then(
        () => 'committed',
        (e: Error) => `failed: ${e.message}`,
      );
      const pid = await waitFor(async () => {
        const r = await admin.query(`select pid from pg_stat_activity where application_name = $1 and state = 'idle in transaction'`, [app]);
        return r.rows[0]?.pid as number | undefined;
      }, 20_000, 'the transaction to be idle in transaction');
      await admin.query('select pg_terminate_backend($1)', [pid]);
      await waitFor(async () => errors.length > 0, 20_000, 'the client to hear of its terminated backend');
      release();
      expect(await outcome).toMatch(/^failed: /);
      // The FATAL, then pg's "Connection terminated unexpectedly" when the socket closes: each one heard.
      expect(errors.map((e) => e.message)).toContainEqual(expect.stringMatching(/terminating connection/));
      expect(errors.filter((e) => !e.heard)).toEqual([]);
      // The broken client left the pool: the next call gets a new connection.
      expect(await store.listEngines()).toEqual([]);
    } finally {
      await admin.end();
      await store.close();
    }
  });
});
