// Users' alert contact (contract §12): `admin user add --email --phone` and `admin user set`, their
// checks (an address with one @ and no spaces; a phone of digits, +, spaces and dashes) naming the field,
// and the store keeping both (created, changed, cleared).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DomainError } from '../../src/domain/errors.js';
import { addOrg, addUser, setUserContact } from '../../src/service/identity.js';
import { fakeClock } from '../helpers/clock.js';
import { tempStore, type TempStore } from '../helpers/store.js';
import { runCli } from '../server/cli.js';

let ts: TempStore;
const clock = fakeClock();
beforeEach(async () => {
  ts = await tempStore();
  await addOrg(ts.store, clock, { id: 'o1', name: 'Org' });
});
afterEach(async () => ts.close());

const fieldOf = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => (e instanceof DomainError ? `${e.field}: ${e.message}` : String(e)));

describe('user contact', () => {
  it('keeps the email and phone a user is created with, and changes or clears each alone', async () => {
    await addUser(ts.store, clock, { id: 'u1', name: 'ann', orgId: 'o1', email: ' ann@example.com ', phone: '+86 138-0000-0000' });
    expect(await ts.store.getUser('u1')).toMatchObject({ email: 'ann@example.com', phone: '+86 138-0000-0000' });
    await addUser(ts.store, clock, { id: 'u2', name: 'ben', orgId: 'o1' });
    expect(await ts.store.getUserByName('ben')).toMatchObject({ email: '', phone: '' });
    expect(await setUserContact(ts.store, 'u1', { phone: '5550100' })).toMatchObject({ email: 'ann@example.com', phone: '5550100' });
    expect(await setUserContact(ts.store, 'u1', { email: '' })).toMatchObject({ email: '', phone: '5550100' });
  });

  it('refuses a bad email or phone, naming the field, and an unknown user', async () => {
    for (const email of ['ann', 'a@b@c', 'ann smith@example.com', '@example.com']) {
      expect(await fieldOf(addUser(ts.store, clock, { id: 'u3', name: 'cy', orgId: 'o1', email }))).toMatch(/^email: Invalid parameter: email must be an address with one "@"/);
    }
    for (const phone of ['call me', '12', '+86 (138)', '555+1']) {
      expect(await fieldOf(setUserContact(ts.store, 'u-none', { phone }))).toMatch(/^phone: Invalid parameter: phone must be digits/);
    }
    expect(await ts.store.getUser('u3')).toBeNull();
    expect(await fieldOf(setUserContact(ts.store, 'u-none', { email: 'x@y' }))).toBe('undefined: User u-none not found');
    expect(await fieldOf(setUserContact(ts.store, 'u-none', {}))).toMatch(/^email: Nothing to change/);
  });

  it('is set from the command line', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'batchflow-cli-'));
    const data = ['--data', dir];
    expect((await runCli(['admin', 'org', 'add', '--id', 'o1', '--name', 'Org', ...data])).code).toBe(0);
    const add = await runCli(['admin', 'user', 'add', '--id', 'u9', '--name', 'dee', '--org', 'o1', '--email', 'dee@example.com', '--phone', '+1 555 0199', ...data]);
    expect(add.code, add.stderr).toBe(0);
    const set = await runCli(['admin', 'user', 'set', 'u9', '--phone', '', ...data]);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ id: 'u9', name: 'dee', email: 'dee@example.com', phone: '' });
    const bad = await runCli(['admin', 'user', 'set', 'u9', '--email', 'not an address', ...data]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stderr)).toMatchObject({ field: 'email' });
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);
});
