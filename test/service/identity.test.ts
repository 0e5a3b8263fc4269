// Bootstrap and the admin verbs: validation and clear DomainErrors.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DomainError } from '../../src/domain/errors.js';
import { addOrg, addUser, bootstrap, resolveCaller, setUserLocked } from '../../src/service/identity.js';
import { fakeClock } from '../helpers/clock.js';
import { tempStore, type TempStore } from '../helpers/store.js';

let ts: TempStore;
const clock = fakeClock();
beforeEach(async () => {
  ts = await tempStore();
});
afterEach(async () => {
  await ts.close();
});

const kindOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    return [(e as DomainError).kind, (e as DomainError).message];
  }
  throw new Error('expected a DomainError');
};

describe('bootstrap', () => {
  it('creates o-default with its root directory and u-admin named admin, once', async () => {
    expect(await bootstrap(ts.store, clock)).toEqual({ created: true });
    expect(await ts.store.getOrg('o-default')).toMatchObject({ name: 'Default organization' });
    expect(await ts.store.getUser('u-admin')).toMatchObject({ name: 'admin', orgId: 'o-default', locked: false });
    expect((await ts.store.getRootDirectory('o-default'))?.name).toBe('Workflow');
    expect(await bootstrap(ts.store, clock)).toEqual({ created: false });
    expect(await ts.store.listOrgs()).toHaveLength(1);
  });
});

describe('admin verbs', () => {
  it('adds orgs and users and refuses duplicates, bad ids and names', async () => {
    await addOrg(ts.store, clock, { id: 'o1', name: 'One' });
    await addUser(ts.store, clock, { id: 'u1', name: 'alice', orgId: 'o1' });
    expect(await kindOf(addOrg(ts.store, clock, { id: 'o1', name: 'Again' }))).toEqual(['invalid', 'Organization o1 already exists']);
    expect(await kindOf(addOrg(ts.store, clock, { id: 'bad id', name: 'x' }))).toEqual(['invalid', expect.stringContaining('id must be')]);
    expect(await kindOf(addOrg(ts.store, clock, { id: 'o2', name: ' ' }))).toEqual(['invalid', expect.stringContaining('name')]);
    expect(await kindOf(addUser(ts.store, clock, { id: 'u2', name: 'alice', orgId: 'o1' }))).toEqual(['invalid', expect.stringContaining('already exists')]);
    expect(await kindOf(addUser(ts.store, clock, { id: 'u3', name: 'a;b', orgId: 'o1' }))).toEqual(['invalid', expect.stringContaining('no ";"')]);
    expect(await kindOf(addUser(ts.store, clock, { id: 'u4', name: 'carol', orgId: 'o-none' }))).toEqual(['notFound', 'Organization o-none not found']);
  });

  it('locks and unlocks users, refusing unknown ones', async () => {
    await bootstrap(ts.store, clock);
    await setUserLocked(ts.store, 'u-admin', true);
    expect((await ts.store.getUser('u-admin'))?.locked).toBe(true);
    await setUserLocked(ts.store, 'u-admin', false);
    expect((await ts.store.getUser('u-admin'))?.locked).toBe(false);
    expect(await kindOf(setUserLocked(ts.store, 'u-ghost', true))).toEqual(['notFound', 'User u-ghost not found']);
  });

  it('resolves a caller only for a user of the named org', async () => {
    await bootstrap(ts.store, clock);
    expect((await resolveCaller(ts.store, 'u-admin', 'o-default')).name).toBe('admin');
    expect((await kindOf(resolveCaller(ts.store, 'u-admin', 'o-x')))[0]).toBe('unknownUser');
    expect((await kindOf(resolveCaller(ts.store, undefined, 'o-default')))[0]).toBe('unknownUser');
  });
});
