// List Workflow Directories and Create Directory.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fails, ok, op } from '../helpers/api.js';
import { flowJson, importFlow } from '../helpers/flows.js';
import { storeSnapshot } from '../helpers/snapshot.js';
import { makeWorld, type World } from '../helpers/world.js';

let w: World;
beforeEach(async () => {
  w = await makeWorld();
});
afterEach(async () => {
  await w.close();
});

const create = (parentId: unknown, dirName: unknown) => op(w, 'admin', 'POST', 'directories', 'create', { body: { parentId, dirName } });

describe('List Workflow Directories', () => {
  it('answers the tree: root "Workflow", sub-directories, flows as leaves keyed by flowId', async () => {
    const root = await w.rootDir();
    const sub = ok<{ dirId: string }>(await create(root, 'reports')).dirId;
    const mine = await importFlow(w, flowJson());
    const dirId = sub;
    const inSub = ok<{ flowId: number }>(await op(w, 'admin', 'POST', 'flows', 'import', { body: { flowName: 'in-sub', desc: '', dirId, flowJson: flowJson() } })).flowId;
    const tree = ok(await op(w, 'bob', 'GET', 'directories', 'listWorkFlowDirs'));
    expect(tree).toEqual([
      {
        title: 'Workflow', type: 1, key: root, isDirectory: true,
        children: [
          { title: 'reports', type: 1, key: sub, isDirectory: true, children: [{ title: 'in-sub', type: 1, key: inSub, isDirectory: false, editable: false }] },
          { title: expect.any(String), type: 1, key: mine, isDirectory: false, editable: false },
        ],
      },
    ]);
    const asOwner = ok<Array<{ children: Array<{ key: unknown; editable?: boolean }> }>>(await op(w, 'admin', 'GET', 'directories', 'listWorkFlowDirs'));
    expect(asOwner[0].children.find((c) => c.key === mine)?.editable).toBe(true);
  });
});

describe('Create Directory', () => {
  it('answers {dirId} of 32 hex characters', async () => {
    const data = ok(await create(await w.rootDir(), 'nightly'));
    expect(Object.keys(data)).toEqual(['dirId']);
    expect(data.dirId).toMatch(/^[0-9a-f]{32}$/);
    expect((await w.store.getDirectory('o-default', data.dirId as string))?.name).toBe('nightly');
  });

  it('refuses with the reference texts and writes nothing', async () => {
    const root = await w.rootDir();
    ok(await create(root, 'taken'));
    const before = await storeSnapshot(w.store);
    fails(await create(root, ''), 62102, 'param: dirName cannot be empty');
    fails(await create(root, '   '), 62102, 'param: dirName cannot be empty');
    fails(await create(root, undefined), 62102, 'param: dirName cannot be empty');
    fails(await create('', 'x'), 62102, 'param: parentId cannot be empty');
    fails(await create(undefined, 'x'), 62102, 'param: parentId cannot be empty');
    fails(await create('f'.repeat(32), 'x'), 62102, 'parentId not found');
    fails(await create(await w.rootDir('o-other'), 'x'), 62102, 'parentId not found');
    fails(await create(root, 'taken'), 62102, 'A directory of the same name already exists');
    fails(await create(root, 42), 62102, 'dirName must be a string');
    fails(await create(root, 'a/b'), 62102, 'dirName');
    expect(await storeSnapshot(w.store)).toEqual(before);
  });
});
