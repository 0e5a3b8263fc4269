// planOnFrontier must give exactly planInstance's plan: checked on a chain and a diamond by hand, then on
// many random graphs (some with cycles and relations to nodes outside the instance) and random statuses.
import { describe, expect, it } from 'vitest';
import { planInstance } from '../../src/domain/graph.js';
import { TaskInstanceStatus } from '../../src/domain/status.js';
import type { Relation } from '../../src/domain/types.js';
import { instanceGraph, planOnFrontier } from '../../src/engine/frontier.js';

const rel = (source: string, target: string): Relation => ({ source, target, cycleGap: 'D0', rerun: true });
const STATUSES = Object.values(TaskInstanceStatus);

function both(nodeIds: string[], relations: Relation[], statuses: Record<string, TaskInstanceStatus>) {
  const statusOf = (id: string) => statuses[id] ?? 'INIT';
  return {
    frontier: planOnFrontier(instanceGraph(nodeIds, relations), statusOf),
    whole: planInstance(nodeIds, relations, new Map(nodeIds.map((id) => [id, statusOf(id)]))),
  };
}

/** A small deterministic PRNG, so a failure names a reproducible seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('planOnFrontier', () => {
  it('starts the successor of a finished task in a chain, and succeeds when the last one passed', () => {
    const ids = ['a', 'b', 'c'];
    const chain = [rel('a', 'b'), rel('b', 'c')];
    expect(both(ids, chain, { a: 'SUCCESS' }).frontier).toEqual({ ready: ['b'], skip: [], outcome: null });
    expect(both(ids, chain, { a: 'SUCCESS', b: 'SUCCESS', c: 'SKIP' }).frontier).toEqual({ ready: [], skip: [], outcome: 'SUCCESS' });
  });

  it('reports ready nodes in the whole graph topological order, and fails with every pending node skipped', () => {
    // Node order c, a, b with a -> c: the whole graph's order is a, b, c.
    const ids = ['c', 'a', 'b'];
    const r = both(ids, [rel('a', 'c')], { a: 'SUCCESS' });
    expect(r.frontier).toEqual(r.whole);
    expect(r.frontier.ready).toEqual(['b', 'c']);
    const failed = both(['a', 'b', 'c', 'd'], [rel('a', 'b'), rel('a', 'c'), rel('c', 'd')], { a: 'SUCCESS', b: 'FAIL', c: 'RUNNING' });
    expect(failed.frontier).toEqual({ ready: [], skip: ['d'], outcome: 'FAIL' });
  });

  it('does not let a cycle of waiting nodes pass for success', () => {
    const r = both(['a', 'b', 'c'], [rel('b', 'c'), rel('c', 'b')], { a: 'SUCCESS' });
    expect(r.frontier).toEqual({ ready: [], skip: [], outcome: null });
  });

  it('gives the same plan as planInstance on random graphs and statuses', () => {
    for (let seed = 1; seed <= 3000; seed++) {
      const rand = rng(seed);
      const n = 1 + Math.floor(rand() * 9);
      const ids = Array.from({ length: n }, (_, i) => `t_${i}`).sort(() => rand() - 0.5);
      const relations: Relation[] = [];
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          const acyclic = i < j; // mostly a DAG over the index order; now and then a back edge or a foreign node
          if ((acyclic && rand() < 0.3) || (!acyclic && i !== j && rand() < 0.02)) relations.push(rel(`t_${i}`, `t_${j}`));
        }
        if (rand() < 0.05) relations.push(rel(`f_${i}`, `t_${i}`));
      }
      const statuses: Record<string, TaskInstanceStatus> = {};
      for (const id of ids) {
        const x = rand();
        // Weighted towards the statuses a running instance has: passed, waiting, running.
        statuses[id] = x < 0.35 ? 'SUCCESS' : x < 0.65 ? 'INIT' : x < 0.75 ? 'RUNNING' : STATUSES[Math.floor(rand() * STATUSES.length)];
      }
      const { frontier, whole } = both(ids, relations, statuses);
      expect(frontier, `seed ${seed}`).toEqual(whole);
    }
  });
});
