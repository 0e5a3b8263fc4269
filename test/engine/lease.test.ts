// The lease on virtual time: renewals by heartbeat, a refused renewal (taken over), and fencing on a shared
// store: with renewals failing, the engine gives its identity up one heartbeat before the lease it last
// renewed would run out — never later — and registers anew once the store answers; on the embedded store
// it never fences.
import { describe, expect, it } from 'vitest';
import { Lease } from '../../src/engine/lease.js';
import type { Host } from '../../src/engine/host.js';
import type { EngineRecord, Store } from '../../src/store/store.js';
import { VirtualTime } from '../sim/virtualTime.js';

const HEARTBEAT = 200;
const LEASE = 1_500;

function setup(fence: boolean) {
  const vt = new VirtualTime(1_000_000);
  const timers = vt.domain('engine');
  let failing = false;
  let refuse = false;
  const rows = new Map<string, EngineRecord>();
  const store = {
    async registerEngine(e: EngineRecord) {
      if (failing) throw new Error('connection refused');
      rows.set(e.id, e);
    },
    async renewEngineLease(id: string, now: number, leaseUntil: number) {
      if (failing) throw new Error('connection refused');
      if (refuse) return false;
      rows.set(id, { ...rows.get(id)!, heartbeatAt: now, leaseUntil });
      return true;
    },
    async stopEngine() {},
  } as unknown as Store;
  const host = { name: 'h', pid: 1, procStart: '1' } as unknown as Host;
  const lost: Array<{ id: string; why: string; at: number; leaseUntil: number }> = [];
  let n = 0;
  const lease = new Lease({
    store, clock: vt, timers, host, heartbeatMs: HEARTBEAT, leaseMs: LEASE, fence,
    newId: () => `e${++n}`,
    onLost: (id, why) => lost.push({ id, why, at: vt.now(), leaseUntil: rows.get(id)!.leaseUntil }),
    onError: () => {},
  });
  /** Runs timers (and the promises they start) until virtual time `t`. */
  const runUntil = async (t: number) => {
    for (;;) {
      await new Promise((r) => setImmediate(r));
      const next = vt.nextAt();
      if (next === null || next > t) break;
      vt.runNext();
    }
    vt.advanceTo(t);
  };
  return { vt, lease, lost, rows, runUntil, fail: (v: boolean) => (failing = v), refuse: (v: boolean) => (refuse = v) };
}

describe('Lease', () => {
  it('renews every heartbeat while the store answers', async () => {
    const s = setup(true);
    await s.lease.register();
    s.lease.start();
    await s.runUntil(s.vt.now() + 10 * LEASE);
    expect(s.lost).toEqual([]);
    expect(s.rows.get('e1')!.leaseUntil).toBeGreaterThan(s.vt.now());
    await s.lease.stop(true);
  });

  it('fences one heartbeat before the unrenewed lease ends, never after, and registers anew when the store is back', async () => {
    const s = setup(true);
    await s.lease.register();
    s.lease.start();
    await s.runUntil(s.vt.now() + 3 * HEARTBEAT);
    s.fail(true);
    await s.runUntil(s.vt.now() + 3 * LEASE);
    expect(s.lost).toHaveLength(1);
    const [f] = s.lost;
    expect(f).toMatchObject({ id: 'e1', why: 'fenced' });
    expect(f.at).toBeLessThanOrEqual(f.leaseUntil - HEARTBEAT);
    expect(f.at).toBeGreaterThan(f.leaseUntil - 2 * HEARTBEAT);
    expect(s.lease.usable).toBe(false);
    expect(s.lease.id).toBe('e1'); // no new identity while the store is unreachable
    s.fail(false);
    await s.runUntil(s.vt.now() + 2 * HEARTBEAT);
    expect(s.lease.id).not.toBe('e1');
    expect(s.rows.has(s.lease.id)).toBe(true);
    expect(s.lease.usable).toBe(true);
    expect(s.lost).toHaveLength(1);
    await s.lease.stop(true);
  });

  it('on the embedded store never fences: renewals failing for many leases keep the identity', async () => {
    const s = setup(false);
    await s.lease.register();
    s.lease.start();
    s.fail(true);
    await s.runUntil(s.vt.now() + 5 * LEASE);
    s.fail(false);
    await s.runUntil(s.vt.now() + 2 * HEARTBEAT);
    expect(s.lost).toEqual([]);
    expect([s.lease.id, s.lease.usable]).toEqual(['e1', true]);
    await s.lease.stop(true);
  });

  it('a refused renewal (taken over) gives the identity up at once and registers a new one', async () => {
    const s = setup(true);
    await s.lease.register();
    s.lease.start();
    s.refuse(true);
    await s.runUntil(s.vt.now() + HEARTBEAT + 1);
    s.refuse(false);
    expect(s.lost.map((l) => [l.id, l.why])).toEqual([['e1', 'taken over']]);
    expect(s.lease.id).toBe('e2');
    await s.lease.stop(true);
  });
});
