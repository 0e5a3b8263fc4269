// Several cron schedulers on one PostgreSQL store (each its own store connection, as separate processes
// would be), on a fake clock: every scheduler fires every due time, the instance id's primary key lets
// exactly one fire through, the others get a duplicate; the one left after the other stops goes on
// firing once a minute; and the missed-fire rule (only the latest missed fire after downtime) holds for a
// scheduler that starts after both were down, since it is computed from the fires stored.
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../src/config.js';
import { Scheduler, type Fire } from '../../src/engine/scheduler.js';
import type { Store } from '../../src/store/store.js';
import { fakeClock } from '../helpers/clock.js';
import { dropSchemas, newSchema, pgStore, postgresAvailable } from '../helpers/postgres.js';
import { flowOf, T0 } from '../store/store.contract.js';

const MIN = 60_000;
afterAll(() => dropSchemas());

describe.runIf(postgresAvailable)('cron schedulers in several processes on PostgreSQL', () => {
  it('fire each minute exactly once, across a scheduler stopping and after downtime', async () => {
    const schema = newSchema();
    const stores: Store[] = [await pgStore({ schema }), await pgStore({ schema }), await pgStore({ schema })];
    const clock = fakeClock(T0 + 30_000);
    const config = testConfig({ timezone: 'UTC' });
    const logger = pino({ level: 'silent' });
    const made: Scheduler[] = [];
    const scheduler = (store: Store) => {
      const s = new Scheduler({ store, config, clock, logger, manualTicks: true });
      made.push(s);
      return s;
    };
    try {
      const [a, b, c] = stores;
      await a.createOrg({ id: 'o1', name: 'o', createdAt: T0 });
      const spec = flowOf('o1', (await a.getRootDirectory('o1'))!.id, 1, { type: 1, active: 1, createdAt: T0 });
      spec.flow.freq = '0 * * * * ? *';
      const flowId = (await a.createFlow(spec)).flow.id;
      const created = (fires: Fire[][]) => fires.flat().filter((f) => f.flowId === flowId && f.outcome === 'created');
      const duplicates = (fires: Fire[][]) => fires.flat().filter((f) => f.flowId === flowId && f.outcome === 'duplicate');
      // Both start at once, 30 s after the fire at T0 they both find due.
      const [s1, s2] = [scheduler(a), scheduler(b)];
      const started = await Promise.all([s1.start(), s2.start()]);
      // One creates it; the other either tries too (a duplicate) or, starting a moment later, already finds
      // it among the fires stored and plans from there.
      expect(created(started).map((f) => f.fireTime)).toEqual([T0]);
      expect(duplicates(started).length).toBeLessThanOrEqual(1);
      for (let m = 1; m <= 3; m++) {
        clock.set(T0 + m * MIN);
        const fires = await Promise.all([s1.tick(), s2.tick()]);
        expect(created(fires).map((f) => f.fireTime)).toEqual([T0 + m * MIN]);
        expect(duplicates(fires)).toHaveLength(1);
      }
      // The "leader" goes away; the other goes on alone.
      await s1.stop();
      for (let m = 4; m <= 5; m++) {
        clock.set(T0 + m * MIN);
        expect(created([await s2.tick()]).map((f) => f.fireTime)).toEqual([T0 + m * MIN]);
      }
      // Both down for five minutes; a new scheduler (a third process) makes only the latest missed fire.
      await s2.stop();
      clock.set(T0 + 10 * MIN + 5_000);
      const s3 = scheduler(c);
      const atStart = await s3.start();
      expect(created([atStart]).map((f) => [f.fireTime, f.missed])).toEqual([[T0 + 10 * MIN, 4]]);

      const { instances } = await a.searchFlowInstances({ orgId: 'o1', sort: [{ field: 'triggerTime', desc: false }], offset: 0, limit: 100 });
      expect(instances.map((i) => (i.triggerTime - T0) / MIN)).toEqual([0, 1, 2, 3, 4, 5, 10]);
    } finally {
      for (const s of made) await s.stop();
      for (const s of stores) await s.close();
    }
  });
});
