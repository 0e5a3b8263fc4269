// Who may do what: owners write, visitors and members only read (62103), locked users only read (62105),
// another user's edit lock blocks writes (62106), and other orgs' objects answer exactly as missing ones.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fails, ok, op, type Reply } from '../helpers/api.js';
import { flowJson, getFlowData, importFlow, saveBodyOf, taskIds, trigger } from '../helpers/flows.js';
import { storeSnapshot } from '../helpers/snapshot.js';
import { makeWorld, type Who, type World } from '../helpers/world.js';

let w: World;
let flowId: number;
let instId: string;
let taskInstId: string;
beforeEach(async () => {
  w = await makeWorld();
  flowId = await importFlow(w, flowJson({ tasks: ['a', 'b'], edges: [['a', 'b']], visitors: 'vic' }));
  instId = await trigger(w, flowId, w.clock.now() + 3_600_000);
  taskInstId = `${(await taskIds(w, flowId)).a}-${instId.split('-')[1]}`;
});
afterEach(async () => {
  await w.close();
});

type Call = (who: Who) => Promise<Reply>;
const writes: Record<string, Call> = {
  save: async (who) => op(w, who, 'POST', 'flows', 'save', { body: await saveBodyOf(w, flowId) }),
  trigger: (who) => op(w, who, 'POST', 'flows', 'trigger', { body: { flowId, triggerTime: w.clock.now() } }),
  updateAndTrigger: (who) => op(w, who, 'POST', 'flows', 'updateAndTrigger', { body: { flowId, triggerTime: w.clock.now(), parameters: [] } }),
  triggerFromTask: async (who) => op(w, who, 'POST', 'flows', 'triggerFromTask', { body: { flowId, taskId: (await taskIds(w, flowId)).a, triggerTime: w.clock.now() } }),
  cancel: (who) => op(w, who, 'POST', 'flowInstances', 'cancel', { body: { flowInstId: instId } }),
};
const reads: Record<string, Call> = {
  get: (who) => op(w, who, 'GET', 'flows', 'get', { query: { flowId } }),
  export: (who) => op(w, who, 'GET', 'flows', 'export', { query: { flowId } }),
  getInstance: (who) => op(w, who, 'GET', 'flowInstances', 'get', { query: { flowInstId: instId } }),
  getTaskInstance: (who) => op(w, who, 'GET', 'taskInstances', 'get', { query: { taskInstId } }),
  listDirs: (who) => op(w, who, 'GET', 'directories', 'listWorkFlowDirs'),
};

describe('owners, visitors and members', () => {
  for (const [name, run] of Object.entries(writes)) {
    it(`refuses ${name} to a visitor and to a member with 62103, writing nothing`, async () => {
      const before = await storeSnapshot(w.store);
      fails(await run('vic'), 62103, 'User has no privilege.');
      fails(await run('bob'), 62103, /^User has no privilege\. bob is not an owner of workflow \d+/);
      expect(await storeSnapshot(w.store)).toEqual(before);
    });
  }

  for (const [name, run] of Object.entries(reads)) {
    it(`lets a visitor and a member ${name}`, async () => {
      ok(await run('vic'));
      ok(await run('bob'));
    });
  }

  it('tells the caller what it may do', async () => {
    expect(await getFlowData(w, flowId, 'bob')).toMatchObject({ hasEditPri: false, hasReadPri: true, isUserLocked: false, locked: false });
    expect(await getFlowData(w, flowId, 'admin')).toMatchObject({ hasEditPri: true, hasReadPri: true });
    expect(await getFlowData(w, flowId, 'lou')).toMatchObject({ isUserLocked: true });
  });

  it('makes users named in owners owners', async () => {
    const shared = await importFlow(w, flowJson({ owners: 'bob' }));
    ok(await op(w, 'bob', 'POST', 'flows', 'trigger', { body: { flowId: shared, triggerTime: w.clock.now() } }));
  });
});

describe('locked users (62105)', () => {
  const lockedWrites: Record<string, Call> = {
    ...writes,
    import: async (who) => op(w, who, 'POST', 'flows', 'import', { body: { flowName: 'x', desc: '', dirId: await w.rootDir(), flowJson: flowJson() } }),
    createDirectory: async (who) => op(w, who, 'POST', 'directories', 'create', { body: { parentId: await w.rootDir(), dirName: 'x' } }),
  };
  for (const [name, run] of Object.entries(lockedWrites)) {
    it(`refuses ${name}`, async () => {
      const before = await storeSnapshot(w.store);
      fails(await run('lou'), 62105, /^Your account has been locked/);
      expect(await storeSnapshot(w.store)).toEqual(before);
    });
  }
  it('still lets them read', async () => {
    for (const run of Object.values(reads)) ok(await run('lou'));
  });
});

describe('edit lock (62106)', () => {
  beforeEach(async () => {
    const shared = { ...(await saveBodyOf(w, flowId)), owners: 'admin;bob' };
    ok(await op(w, 'admin', 'POST', 'flows', 'save', { body: shared }));
    await w.store.takeEditLock('o-default', flowId, { userId: 'u-bob', userName: 'bob', expiresAt: w.clock.now() + 60_000 }, w.clock.now());
  });

  for (const [name, run] of Object.entries(writes)) {
    it(`refuses ${name} to another owner while held, naming holder and expiry`, async () => {
      const r = await run('admin');
      fails(r, 62106, /locked for editing by bob until .*2024/);
    });
  }

  it('shows locked to others only, and ends when it expires', async () => {
    expect((await getFlowData(w, flowId, 'admin')).locked).toBe(true);
    expect((await getFlowData(w, flowId, 'bob')).locked).toBe(false);
    ok(await writes.trigger('bob'));
    w.clock.advance(61_000);
    expect((await getFlowData(w, flowId, 'admin')).locked).toBe(false);
    ok(await writes.trigger('admin'));
  });
});

describe('organization isolation', () => {
  const cases: Array<[string, (id: 'real' | 'missing') => Promise<Reply>]> = [
    ['get flow', (k) => op(w, 'eve', 'GET', 'flows', 'get', { query: { flowId: k === 'real' ? flowId : 98765 } })],
    ['export', (k) => op(w, 'eve', 'GET', 'flows', 'export', { query: { flowId: k === 'real' ? flowId : 98765 } })],
    ['trigger', (k) => op(w, 'eve', 'POST', 'flows', 'trigger', { body: { flowId: k === 'real' ? flowId : 98765, triggerTime: 1 } })],
    ['get instance', (k) => op(w, 'eve', 'GET', 'flowInstances', 'get', { query: { flowInstId: k === 'real' ? instId : '98765-20240101000000' } })],
    ['cancel', (k) => op(w, 'eve', 'POST', 'flowInstances', 'cancel', { body: { flowInstId: k === 'real' ? instId : '98765-20240101000000' } })],
    ['get task instance', (k) => op(w, 'eve', 'GET', 'taskInstances', 'get', { query: { taskInstId: k === 'real' ? taskInstId : '98765-20240101000000' } })],
    ['get log', (k) => op(w, 'eve', 'GET', 'taskInstances', 'getLog', { query: { taskInstId: k === 'real' ? taskInstId : '98765-20240101000000' } })],
  ];
  for (const [name, run] of cases) {
    it(`answers ${name} of another org's object exactly as a missing one`, async () => {
      const real = await run('real');
      const missing = await run('missing');
      fails(real, 62102, /not found|Invalid taskInstId/);
      const norm = (r: Reply) => r.env.msg.replace(/\b\d+(-\d{14})?\b/g, 'ID');
      expect(norm(real)).toBe(norm(missing));
    });
  }

  it("does not list another org's flows or accept its directories", async () => {
    const tree = ok<Array<{ children: unknown[] }>>(await op(w, 'eve', 'GET', 'directories', 'listWorkFlowDirs'));
    expect(tree[0].children).toEqual([]);
    const r = await op(w, 'eve', 'POST', 'flows', 'import', { body: { flowName: 'x', desc: '', dirId: await w.rootDir(), flowJson: flowJson() } });
    fails(r, 62102, 'Directory does not exist');
  });
});
