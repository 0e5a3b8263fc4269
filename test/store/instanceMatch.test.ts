// idMatch: which instance ids an expression can match, by the shape `<flowId>-<stamp>` (instanceMatch.ts).
import { describe, expect, it } from 'vitest';
import { idMatch } from '../../src/store/instanceMatch.js';

const flows = [4, 12, 123, 1234, 4210];

describe('idMatch', () => {
  it.each([
    // [expression, flows matched whole, stamp LIKE pattern, its prefix, flows that stamp may match]
    ['12', [12, 123, 1234], '%12%', null, flows],
    ['4-', [4, 1234], null, null, []],
    ['-', flows, null, null, []],
    ['-2026', [], '2026%', '2026', flows],
    ['4-2026', [], '2026%', '2026', [4, 1234]],
  ] as const)('%s: whole flows %j, stamps %s', (p, whole, like, prefix, stampFlows) => {
    const m = idMatch(p);
    expect(flows.filter((f) => m.wholeFlow(f))).toEqual(whole);
    expect(m.stamp && { like: m.stamp.like, prefix: m.stamp.prefix }).toEqual(like === null ? null : { like, prefix });
    expect(flows.filter((f) => m.stamp?.flow(f) ?? false)).toEqual(stampFlows);
  });

  it.each(['etl', '1-2-3', '%', '_1', '1 2', ''])('%j matches no id', (p) => {
    const m = idMatch(p);
    expect({ whole: flows.filter((f) => m.wholeFlow(f)), stamp: m.stamp }).toEqual({ whole: [], stamp: null });
  });
});
