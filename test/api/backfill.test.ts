// Backfill (contract §12) through the API on a fake clock: one instance per cron fire in the inclusive
// range (the flow's cron, or a given one for a manual flow, where it is required), existing minutes
// skipped and listed, more than 1000 fires refused naming the count, every refusal changing nothing, and
// the store's write all-or-nothing.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildFlowInstance } from '../../src/domain/instances.js';
import { fails, ok, op } from '../helpers/api.js';
import { flowJson, importFlow, periodicFlowJson } from '../helpers/flows.js';
import { storeSnapshot } from '../helpers/snapshot.js';
import { makeWorld, type World } from '../helpers/world.js';

let w: World;
beforeEach(async () => {
  w = await makeWorld();
});
afterEach(async () => {
  await w.close();
});

const H = 3_600_000;
const DAY0 = Date.UTC(2024, 1, 1); // the fake clock is 2024-03-02 (UTC service zone)
const hourly = () => periodicFlowJson({ cron: '0 0 * * * ? *' });
const backfill = (body: Record<string, unknown>, who: 'admin' | 'vic' = 'admin') => op(w, who, 'POST', 'flows', 'backfill', { body });
const id = (flowId: number, t: number) => `${flowId}-${new Date(t).toISOString().replace(/[-T:]/g, '').slice(0, 12)}00`;

async function refused(body: Record<string, unknown>, msg: RegExp, code = 62102): Promise<void> {
  const before = await storeSnapshot(w.store);
  fails(await backfill(body), code, msg);
  expect(await storeSnapshot(w.store)).toEqual(before);
}

describe('backfill', () => {
  it('makes one instance per fire of the flow cron in [fromTime, toTime], skipping and listing minutes that have one', async () => {
    const flowId = await importFlow(w, hourly());
    const existing = ok<{ flowInstanceId: string }>(await op(w, 'admin', 'POST', 'flows', 'trigger', { body: { flowId, triggerTime: DAY0 + 3 * H + 20_000 } })).flowInstanceId;
    const data = ok<{ flowInstanceIds: string[]; skipped: string[] }>(await backfill({ flowId, fromTime: DAY0, toTime: DAY0 + 6 * H }));
    expect(data.skipped).toEqual([existing]);
    expect(data.flowInstanceIds).toEqual([0, 1, 2, 4, 5, 6].map((h) => id(flowId, DAY0 + h * H)));
    // Each is a trigger at its fire time, by the caller, due now (past fires), in trigger-time order of seq.
    const insts = await Promise.all(data.flowInstanceIds.map(async (i) => (await w.store.getFlowInstance('o-default', i))!));
    expect(insts.map((i) => i.triggerTime)).toEqual([0, 1, 2, 4, 5, 6].map((h) => DAY0 + h * H));
    expect(insts.map((i) => [i.kind, i.owner, i.status, i.dueAt])).toEqual(insts.map(() => ['backfill', 'admin', 'WAIT', w.clock.now()]));
    expect(insts.map((i) => i.seq)).toEqual([...insts.map((i) => i.seq)].sort((a, b) => a - b));
    // The same range again: everything skipped, nothing made.
    const again = ok<{ flowInstanceIds: string[]; skipped: string[] }>(await backfill({ flowId, fromTime: DAY0, toTime: DAY0 + 6 * H }));
    expect(again.flowInstanceIds).toEqual([]);
    expect(again.skipped).toHaveLength(7);
  });

  it('a manual flow needs a cron; parameters override for these instances only; a given cron replaces a periodic one', async () => {
    const manual = await importFlow(w, flowJson({ tasks: ['a'], parameters: '[{"key":"region","value":"eu"}]' }));
    await refused({ flowId: manual, fromTime: DAY0, toTime: DAY0 + H }, /^Missing parameter: cron \(workflow \d+ is not periodic/);
    const data = ok<{ flowInstanceIds: string[] }>(await backfill({ flowId: manual, fromTime: DAY0, toTime: DAY0 + 2 * 86_400_000, cron: '0 30 2 * * ? *', parameters: [{ key: 'region', value: 'ap' }] }));
    expect(data.flowInstanceIds).toEqual([0, 1].map((d) => id(manual, DAY0 + d * 86_400_000 + 2.5 * H)));
    const inst = (await w.store.getFlowInstance('o-default', data.flowInstanceIds[0]))!;
    expect(inst.parameters).toEqual([{ key: 'region', value: 'ap' }]);
    expect((await w.store.getFlow('o-default', manual))!.flow.parameters).toEqual([{ key: 'region', value: 'eu' }]);
    const periodic = await importFlow(w, hourly());
    const daily = ok<{ flowInstanceIds: string[] }>(await backfill({ flowId: periodic, fromTime: DAY0, toTime: DAY0 + 86_400_000 - 1, cron: '0 0 12 * * ? *' }));
    expect(daily.flowInstanceIds).toEqual([id(periodic, DAY0 + 12 * H)]);
  });

  it('makes one instance per minute of a cron firing every few seconds', async () => {
    const flowId = await importFlow(w, flowJson({ tasks: ['a'] }));
    const data = ok<{ flowInstanceIds: string[] }>(await backfill({ flowId, fromTime: DAY0, toTime: DAY0 + 3 * 60_000 - 1, cron: '0/10 * * * * ? *' }));
    expect(data.flowInstanceIds).toEqual([0, 1, 2].map((m) => id(flowId, DAY0 + m * 60_000)));
  });

  it('refuses, naming the field and changing nothing: too many fires, a bad range or cron, no task, a visitor', async () => {
    const flowId = await importFlow(w, periodicFlowJson({ cron: '0 0 * * * ? *', visitors: 'vic' }));
    await refused({ flowId, fromTime: DAY0, toTime: DAY0 + 1000 * H }, /^Invalid parameter: the range holds 1001 fires of "0 0 \* \* \* \? \*"; a backfill makes at most 1000 instances per call: split the range$/);
    await refused({ flowId, fromTime: DAY0, toTime: DAY0 + 5000 * 86_400_000 }, /the range holds more than 10000 fires/);
    await refused({ flowId, fromTime: DAY0 + H, toTime: DAY0 }, /^Invalid parameter: toTime \d+ is before fromTime \d+$/);
    await refused({ flowId, fromTime: 1_700_000_000, toTime: DAY0 }, /fromTime is out of range: at least 100000000000 .* looks like seconds/);
    await refused({ flowId, fromTime: DAY0, toTime: DAY0 + H, cron: '0 0 * * *' }, /^Invalid parameter: cron "0 0 \* \* \*" is not a 7-field Quartz cron/);
    await refused({ flowId: 999_999, fromTime: DAY0, toTime: DAY0 + H }, /999999 not found/);
    const before = await storeSnapshot(w.store);
    fails(await backfill({ flowId, fromTime: DAY0, toTime: DAY0 + H }, 'vic'), 62103, /vic is not an owner of workflow/);
    expect(await storeSnapshot(w.store)).toEqual(before);
    // Exactly 1000 is allowed.
    expect(ok<{ flowInstanceIds: string[] }>(await backfill({ flowId, fromTime: DAY0, toTime: DAY0 + 999 * H })).flowInstanceIds).toHaveLength(1000);
  });

  it('the store writes all or none: a create whose flow is gone rolls the whole call back', async () => {
    const flowId = await importFlow(w, hourly());
    const fw = (await w.store.getFlow('o-default', flowId))!;
    const mk = (t: number, f = fw) => buildFlowInstance({ fw: f, triggerTime: t, now: w.clock.now(), timezone: 'UTC', owner: 'admin', kind: 'backfill', overrides: [], startTaskId: null, runSet: null });
    const gone = { ...fw, flow: { ...fw.flow, id: 424242, versionId: 0 } };
    const before = await storeSnapshot(w.store);
    await expect(w.store.createFlowInstances([mk(DAY0), mk(DAY0 + H, gone), mk(DAY0 + 2 * H)])).rejects.toThrow(/flow 424242 not found/);
    expect(await storeSnapshot(w.store)).toEqual(before);
  });
});
