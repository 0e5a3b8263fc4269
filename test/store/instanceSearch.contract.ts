// searchFlowInstances against its meaning, on every backend: for expressions of every shape (name parts,
// flow ids, stamps, fragments across the dash, wildcards, 1000 characters), filters, sorts and pages,
// the page and the count equal what the definition gives over the rows the test made: id or flow name
// contains the expression (case-insensitive), owner "" belongs to the flow's creator, NULLS LAST, then seq.
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import type { FlowInstance, FlowWithTasks } from '../../src/domain/types.js';
import type { InstanceSearch, Store } from '../../src/store/store.js';
import { flowOf, instanceOf, T0 } from './store.contract.js';

const HOUR = 3_600_000;
const stampOf = (t: number) => new Date(t).toISOString().replace(/\D/g, '').slice(0, 12) + '00';

interface Made {
  inst: FlowInstance;
  name: string;
  type: number;
  creator: string;
}

export function describeInstanceSearchContract(name: string, factory: () => Promise<Store>): void {
  describe(`searchFlowInstances: ${name}`, () => {
    let store: Store;
    const made: Made[] = [];

    beforeAll(async () => {
      store = await factory();
      for (const org of ['o1', 'o2']) await store.createOrg({ id: org, name: org, createdAt: T0 });
      const flows: Array<{ fw: FlowWithTasks; creator: string }> = [];
      const specs = [
        { id: 12, name: 'Alpha ETL', type: 0 as const, creator: 'alice' },
        { id: 123, name: 'beta_load', type: 1 as const, creator: 'bob' },
        { id: 1234, name: 'gamma%x', type: 0 as const, creator: 'alice' },
        { id: 51, name: 'Daily-12', type: 1 as const, creator: 'carol' },
        { id: 2024, name: 'year', type: 0 as const, creator: 'bob' },
      ];
      for (const s of specs) {
        const dirId = (await store.getRootDirectory('o1'))!.id;
        const nf = flowOf('o1', dirId, 1, { id: s.id, name: s.name, type: s.type });
        nf.flow.creatorName = s.creator;
        flows.push({ fw: await store.createFlow(nf), creator: s.creator });
      }
      // Flows without instances: a fragment "A-B" then keeps few enough flows to be read by flow.
      for (let i = 0; i < 12; i++) await store.createFlow(flowOf('o1', (await store.getRootDirectory('o1'))!.id, 1, { id: 3000 + i * 7, name: `idle ${i}` }));
      const other = await store.createFlow(flowOf('o2', (await store.getRootDirectory('o2'))!.id, 1, { id: 77, name: 'Alpha other org' }));
      const times = [0, 1, 12.5, 23, 24 + 12 + 34 / 60, 24 * 10 + 23, 24 * 31 + 1].map((h) => T0 + Math.round(h * HOUR));
      const owners = ['alice', '', 'bob', '', 'carol', '', 'alice'];
      let k = 0;
      for (const { fw, creator } of flows) {
        for (const [i, t] of times.entries()) {
          const input = instanceOf(fw, t, { owner: owners[(i + k) % owners.length], createdAt: t + ((i * 7 + k) % 5) * 60_000 });
          // One instance made in another zone: its stamp is not the UTC minute of its trigger time.
          if (i === 2 && k % 2 === 0) input.instance.id = `${fw.flow.id}-${stampOf(t + HOUR)}`;
          let inst = await store.createFlowInstance(input);
          if ((i + k) % 3 === 0) inst = await store.cancelInstance('o1', inst.id, t + HOUR, 'test', 'u1');
          made.push({ inst, name: fw.flow.name, type: fw.flow.type, creator });
        }
        k++;
      }
      await store.createFlowInstance(instanceOf(other, times[0]));
    });
    afterAll(() => store.close());

    function expected(q: InstanceSearch): { ids: string[]; total: number } {
      const p = q.expression?.toLowerCase();
      const rows = made.filter(({ inst, name, type, creator }) => {
        if (q.flowType !== undefined && type !== q.flowType) return false;
        if (q.flowIds && !q.flowIds.includes(inst.flowId)) return false;
        if (p && !inst.id.toLowerCase().includes(p) && !name.toLowerCase().includes(p)) return false;
        if (q.owner && inst.owner !== q.owner && !(inst.owner === '' && creator === q.owner)) return false;
        if (q.fromTriggerTime !== undefined && inst.triggerTime < q.fromTriggerTime) return false;
        if (q.toTriggerTime !== undefined && inst.triggerTime > q.toTriggerTime) return false;
        return !q.statuses || q.statuses.includes(inst.status);
      });
      const col = { createTime: 'createdAt', updateTime: 'createdAt', startTime: 'startedAt', triggerTime: 'triggerTime', endTime: 'endedAt' } as const;
      const sorted = rows.map((r) => r.inst).sort((a, b) => {
        for (const s of q.sort) {
          // updated_at: created (WAIT) or cancelled at endedAt.
          const va = s.field === 'updateTime' ? (a.endedAt ?? a.createdAt) : a[col[s.field]];
          const vb = s.field === 'updateTime' ? (b.endedAt ?? b.createdAt) : b[col[s.field]];
          if (va === vb) continue;
          if (va === null) return 1;
          if (vb === null) return -1;
          return s.desc ? vb - va : va - vb;
        }
        return q.sort[0]?.desc === false ? a.seq - b.seq : b.seq - a.seq;
      });
      return { ids: sorted.slice(q.offset, q.offset + q.limit).map((i) => i.id), total: rows.length };
    }

    async function check(q: InstanceSearch): Promise<void> {
      const got = await store.searchFlowInstances(q);
      expect({ ids: got.instances.map((i) => i.id), total: got.total }, JSON.stringify(q)).toEqual(expected(q));
    }

    const expressions = ['34-2024', '1234-202401', '1', '12', '123', '1234', '2024', '12-', '-2024', '4-20240101', '3-2024', '-', '--', '1-2', '0101', '1234', '01011', '0111',
      'alpha', 'ETL', 'a_l', '%', '_', 'a%x', 'daily-12', 'y-1', ' ', 'x'.repeat(1000), '2'.repeat(1000)];

    it('matches every shape of expression exactly as "id or flow name contains it", counting every match', async () => {
      for (const expression of expressions) {
        await check({ orgId: 'o1', expression, sort: [], offset: 0, limit: 100 });
        await check({ orgId: 'o1', expression, flowType: 0, sort: [{ field: 'triggerTime', desc: true }], offset: 1, limit: 3 });
        await check({ orgId: 'o1', expression, owner: 'alice', statuses: ['WAIT'], fromTriggerTime: T0 + HOUR, toTriggerTime: T0 + 30 * 24 * HOUR, sort: [{ field: 'startTime', desc: false }], offset: 0, limit: 2 });
      }
    });

    it('pages in every sort order with NULLS LAST and seq last, dense or sparse filters alike', async () => {
      const sorts: InstanceSearch['sort'][] = [[], [{ field: 'triggerTime', desc: false }], [{ field: 'createTime', desc: true }], [{ field: 'endTime', desc: false }, { field: 'triggerTime', desc: true }], [{ field: 'updateTime', desc: true }]];
      const filters: Array<Partial<InstanceSearch>> = [{}, { statuses: ['CANCEL'] }, { owner: 'bob' }, { flowType: 1, fromTriggerTime: T0 + 12 * HOUR }, { flowIds: [12, 2024] }, { flowIds: [] }, { expression: '0102' }];
      for (const sort of sorts) for (const f of filters) for (const [offset, limit] of [[0, 1], [0, 5], [3, 4], [30, 10]]) await check({ orgId: 'o1', sort, offset, limit, ...f });
    });

    it('sees no instance of another org', async () => {
      const got = await store.searchFlowInstances({ orgId: 'o2', expression: 'alpha', sort: [], offset: 0, limit: 10 });
      expect({ n: got.total, ids: got.instances.map((i) => i.orgId) }).toEqual({ n: 1, ids: ['o2'] });
    });
  });
}
