// The Store contract for authentication state (contract §9), run against every adapter: apps (one org's,
// revocation taking their tokens), one token per app under concurrent requests, a nonce accepted exactly
// once under concurrent requests (replays refused across processes), refresh, purge, resealing, and the
// master key id recorded by the first process.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DomainError, DuplicateKeyError } from '../../src/domain/errors.js';
import type { AccessToken, App } from '../../src/domain/types.js';
import type { Store } from '../../src/store/store.js';

const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

const appOf = (accessKey: string, orgId = 'o1', over: Partial<App> = {}): App => ({ accessKey, orgId, name: '', secretSealed: `sealed-${accessKey}`, createdAt: T0, revokedAt: null, ...over });
const tokenOf = (hash: string, accessKey: string, expiresAt = T0 + 2 * HOUR): AccessToken => ({ tokenHash: hash, accessKey, tokenSealed: `sealed-${hash}`, issuedAt: T0, expiresAt });

export function describeAuthStoreContract(name: string, factory: () => Promise<Store>): void {
  describe(`Store contract (authentication): ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await factory();
      await store.createOrg({ id: 'o1', name: 'One', createdAt: T0 });
      await store.createOrg({ id: 'o2', name: 'Two', createdAt: T0 });
    });
    afterEach(async () => store.close());

    it('creates, lists (per org, oldest first) and reads apps; a duplicate key or an unknown org writes nothing', async () => {
      await store.createApp(appOf('b', 'o1', { createdAt: T0 + 1 }));
      await store.createApp(appOf('a', 'o2'));
      await store.createApp(appOf('c', 'o1', { createdAt: T0 + 2, name: 'etl' }));
      expect((await store.listApps()).map((a) => a.accessKey)).toEqual(['a', 'b', 'c']);
      expect((await store.listApps('o1')).map((a) => a.accessKey)).toEqual(['b', 'c']);
      expect(await store.getApp('c')).toEqual(appOf('c', 'o1', { createdAt: T0 + 2, name: 'etl' }));
      expect(await store.getApp('zz')).toBeNull();
      await expect(store.createApp(appOf('a', 'o1'))).rejects.toBeInstanceOf(DuplicateKeyError);
      await expect(store.createApp(appOf('d', 'o-none'))).rejects.toBeInstanceOf(DomainError);
      expect(await store.listApps()).toHaveLength(3);
    });

    it('tokenFor: 8 concurrent requests of one app make one token; a later request gets it again until it is about to expire', async () => {
      await store.createApp(appOf('a'));
      let made = 0;
      const got = await Promise.all(Array.from({ length: 8 }, () => store.tokenFor('a', T0, () => tokenOf(`h${++made}`, 'a'))));
      const hashes = new Set(got.map((g) => g!.token.tokenHash));
      expect(hashes.size).toBe(1);
      expect(got.filter((g) => g!.issued)).toHaveLength(1);
      const again = await store.tokenFor('a', T0 + HOUR, () => tokenOf('later', 'a'));
      expect(again).toMatchObject({ issued: false, token: { tokenHash: [...hashes][0] } });
      // Not valid past the asked instant: a new one.
      const next = await store.tokenFor('a', T0 + 2 * HOUR, () => tokenOf('next', 'a', T0 + 4 * HOUR));
      expect(next).toMatchObject({ issued: true, token: { tokenHash: 'next' } });
      expect((await store.findToken('next'))!).toMatchObject({ token: { accessKey: 'a', expiresAt: T0 + 4 * HOUR }, app: { accessKey: 'a', orgId: 'o1' } });
      expect(await store.tokenFor('nobody', T0, () => tokenOf('x', 'nobody'))).toBeNull();
    });

    it('rememberNonce: of 8 concurrent callers exactly one wins; the others see a replay', async () => {
      const wins = await Promise.all(Array.from({ length: 8 }, () => store.rememberNonce('sig:abc', T0 + 300_000)));
      expect(wins.filter(Boolean)).toHaveLength(1);
      expect(await store.rememberNonce('sig:abc', T0 + 300_000)).toBe(false);
      expect(await store.rememberNonce('sig:abd', T0 + 300_000)).toBe(true);
    });

    it('rememberNonces records many in one write and answers which were new; concurrent batches agree', async () => {
      await store.rememberNonce('old', T0 + 300_000);
      expect([...(await store.rememberNonces([{ nonce: 'old', expiresAt: T0 }, { nonce: 'n1', expiresAt: T0 }, { nonce: 'n2', expiresAt: T0 }]))].sort()).toEqual(['n1', 'n2']);
      expect(await store.rememberNonces([])).toEqual(new Set());
      const batches = await Promise.all(Array.from({ length: 8 }, () => store.rememberNonces([{ nonce: 'x', expiresAt: T0 }, { nonce: 'y', expiresAt: T0 }])));
      expect(batches.filter((b) => b.has('x'))).toHaveLength(1);
      expect(batches.filter((b) => b.has('y'))).toHaveLength(1);
      expect(await store.rememberNonce('n1', T0)).toBe(false);
    });

    it('revokeApp marks the app revoked and drops its tokens; a second revoke or an unknown key answers false', async () => {
      await store.createApp(appOf('a'));
      await store.createApp(appOf('b'));
      await store.tokenFor('a', T0, () => tokenOf('ha', 'a'));
      await store.tokenFor('b', T0, () => tokenOf('hb', 'b'));
      expect(await store.revokeApp('a', T0 + 5)).toBe(true);
      expect(await store.getApp('a')).toMatchObject({ revokedAt: T0 + 5 });
      expect(await store.findToken('ha')).toBeNull();
      expect(await store.findToken('hb')).not.toBeNull();
      expect(await store.revokeApp('a', T0 + 6)).toBe(false);
      expect(await store.revokeApp('zz', T0 + 6)).toBe(false);
      expect(await store.tokenFor('a', T0, () => tokenOf('again', 'a'))).toBeNull();
    });

    it("replaceToken swaps one of the app's tokens for a new one; anyone else's token, or a gone one, is refused", async () => {
      await store.createApp(appOf('a'));
      await store.createApp(appOf('b'));
      await store.tokenFor('a', T0, () => tokenOf('ha', 'a'));
      await store.tokenFor('b', T0, () => tokenOf('hb', 'b'));
      expect(await store.replaceToken('hb', tokenOf('stolen', 'a'))).toBe(false);
      expect(await store.replaceToken('ha', tokenOf('ha2', 'a'))).toBe(true);
      expect(await store.findToken('ha')).toBeNull();
      expect(await store.findToken('ha2')).not.toBeNull();
      expect(await store.replaceToken('ha', tokenOf('ha3', 'a'))).toBe(false);
      expect(await store.findToken('stolen')).toBeNull();
    });

    it('purgeAuth deletes what expired before now, and nothing else', async () => {
      await store.createApp(appOf('a'));
      await store.tokenFor('a', T0, () => tokenOf('old', 'a', T0 + 10));
      await store.tokenFor('a', T0 + 20, () => tokenOf('new', 'a', T0 + HOUR));
      await store.rememberNonce('n-old', T0 + 10);
      await store.rememberNonce('n-new', T0 + HOUR);
      expect(await store.purgeAuth(T0 + 11)).toEqual({ tokens: 1, nonces: 1 });
      expect(await store.findToken('old')).toBeNull();
      expect(await store.findToken('new')).not.toBeNull();
      expect(await store.rememberNonce('n-new', T0 + HOUR)).toBe(false);
      expect(await store.rememberNonce('n-old', T0 + HOUR)).toBe(true);
    });

    it('claimMasterKeyId: the first id recorded stays; resealSecrets rewrites every sealed text and the id in one go', async () => {
      expect(await store.claimMasterKeyId('k1')).toBe('k1');
      expect(await store.claimMasterKeyId('k2')).toBe('k1');
      await store.createApp(appOf('a'));
      await store.tokenFor('a', T0, () => tokenOf('ha', 'a'));
      const seen: string[] = [];
      const n = await store.resealSecrets((sealed, boundTo) => {
        seen.push(boundTo);
        return `re(${sealed})`;
      }, 'k2');
      expect(n).toEqual({ apps: 1, tokens: 1 });
      expect(seen.sort()).toEqual(['a', 'ha']);
      expect((await store.getApp('a'))!.secretSealed).toBe('re(sealed-a)');
      expect((await store.findToken('ha'))!.token.tokenSealed).toBe('re(sealed-ha)');
      expect(await store.claimMasterKeyId('k3')).toBe('k2');
      // A reseal that throws half-way writes nothing.
      await store.createApp(appOf('b'));
      await expect(
        store.resealSecrets((sealed, boundTo) => {
          if (boundTo === 'b') throw new Error('cannot open');
          return `again(${sealed})`;
        }, 'k4'),
      ).rejects.toThrow('cannot open');
      expect((await store.getApp('a'))!.secretSealed).toBe('re(sealed-a)');
      expect(await store.claimMasterKeyId('k5')).toBe('k2');
    });
  });
}
