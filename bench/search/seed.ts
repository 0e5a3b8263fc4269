// Seeding for bench/search.ts, through the Store only: 10,000 flows (one task each; names of five kinds,
// every 100th "critical", creators alice and bob, 70 % periodic), every 10th of them with hourly
// instances (1,000 flows x N hours; periodic ones fired by the scheduler with owner "", manual ones by
// alice or bob), about 5 % of them cancelled. Creates go in concurrent batches (the store group-commits).
import { buildFlowInstance } from '../../src/domain/instances.js';
import type { FlowWithTasks } from '../../src/domain/types.js';
import type { NewFlow, Store } from '../../src/store/store.js';

export const ORG = 'o-bench';
export const T_START = Date.UTC(2026, 0, 1);
export const HOUR = 3_600_000;
const WORDS = ['etl', 'load', 'report', 'sync', 'clean'];

function flowInput(dirId: string, i: number): NewFlow {
  const periodic = Math.floor(i / 10) % 10 < 7;
  const creator = i % 4 === 0 ? 'alice' : 'bob';
  return {
    flow: {
      orgId: ORG, dirId, name: `${WORDS[i % 5]} job ${i}${i % 100 === 0 ? ' critical' : ''}`, desc: '', type: periodic ? 1 : 0, active: 0,
      freq: '', cycle: periodic ? 'H' : '', owners: creator, visitors: i % 3 === 0 ? 'carol' : '', doAs: '', alertMode: 0, alertTo: '', appId: '',
      syncType: 0, startDate: '', queue: '', entry: 0, virtual: false, parameters: [], flowRefs: [], relations: [],
      creatorId: creator === 'alice' ? 'u-alice' : 'u-bob', creatorName: creator, updateUser: creator, createdAt: T_START - (10_000 - i) * 60_000, updatedAt: T_START - (i % 977) * 60_000,
    },
    tasks: [{
      name: 't1', type: 'SHELL', cmd: 'exit 0', resource: '', syncType: 0, submitter: creator, filePackage: '', cron: '', priorityLevel: 0,
      timeoutSec: 0, retryLimit: 0, retryIntervalSec: 0, successCode: '0', asLink: false, runMode: '{}', parameters: [], waitCode: '', x: 0, y: 0,
    }],
    relationsByName: [],
  };
}

/** Flows 1..nFlows; returns those with instances (every 10th). */
export async function seedFlows(store: Store, nFlows: number, log: (s: string) => void): Promise<FlowWithTasks[]> {
  await store.createOrg({ id: ORG, name: 'bench', createdAt: T_START });
  for (const [id, name] of [['u-alice', 'alice'], ['u-bob', 'bob']]) await store.createUser({ id, name, orgId: ORG, locked: false, createdAt: T_START });
  const dirId = (await store.getRootDirectory(ORG))!.id;
  const withInstances: FlowWithTasks[] = [];
  for (let i = 1; i <= nFlows; i += 50) {
    const made = await Promise.all(Array.from({ length: Math.min(50, nFlows - i + 1) }, (_, k) => store.createFlow(flowInput(dirId, i + k))));
    for (const fw of made) if (fw.flow.id % 10 === 0) withInstances.push(fw);
  }
  log(`${nFlows} flows`);
  return withInstances;
}

/** `hours` hourly instances of each flow; returns how many were made. */
export async function seedInstances(store: Store, flows: FlowWithTasks[], hours: number, log: (s: string) => void): Promise<number> {
  let made = 0;
  const started = Date.now();
  for (let h = 0; h < hours; h++) {
    const t = T_START + h * HOUR;
    const created = await Promise.all(
      flows.map((fw, k) => {
        const manual = fw.flow.type === 0;
        const inst = buildFlowInstance({
          fw, triggerTime: t, now: t, timezone: 'UTC', owner: manual ? (h % 2 === 0 ? 'alice' : 'bob') : '', kind: manual ? 'trigger' : 'schedule',
          overrides: [], startTaskId: null, runSet: null,
        });
        return store.createFlowInstance(inst).then((i) => ((h + k) % 20 === 0 ? i.id : null));
      }),
    );
    const cancels = created.filter((id): id is string => id !== null);
    await Promise.all(cancels.map((id) => store.cancelInstance(ORG, id, t + 60_000, 'bench', 'u-alice')));
    made += flows.length;
    if (h % 100 === 99) log(`${made} instances, ${Math.round(made / ((Date.now() - started) / 1000))}/s`);
  }
  return made;
}
