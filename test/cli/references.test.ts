// `batchflow runs show` lists an instance's references (contract §10) under its tasks: the referenced
// workflow (or task), the window, the bound instance and the wait.
import { describe, expect, it } from 'vitest';
import { referenceLines } from '../../src/cli/client/runsCommands.js';
import type { FlowInstanceView } from '../../src/client/index.js';

const view = (references: unknown[], flows: unknown[]) => ({ graph: JSON.stringify({ flows }), references }) as unknown as FlowInstanceView;
const wait = (over: Record<string, unknown>) => ({
  nodeId: 'today', cycleGap: 'D0', status: 'WAITING', flowInstId: '', boundStatus: 'NONE',
  windowStart: '2026-12-03 00:00:00', windowStartMs: 0, windowEnd: '2026-12-04 00:00:00', windowEndMs: 0, deadline: '2026-12-04 12:00:00', deadlineMs: 0, reason: null, ...over,
});

describe('runs show: references', () => {
  it('lists nothing for an instance without references', () => {
    expect(referenceLines(view([], []))).toEqual([]);
  });

  it('names each reference, its window, what it is bound to and how its wait stands', () => {
    const lines = referenceLines(
      view(
        [wait({ flowInstId: '1-20261203115900', boundStatus: 'FAIL' }), wait({ nodeId: 'x', status: 'FAIL', deadline: null, reason: 'reference x (load / 7(extract)) timed out after 60 s' })],
        [{ nodeId: 'today', flowName: 'load', isVirtual: false }, { nodeId: 'x', flowName: '7(extract)', isVirtual: true }],
      ),
    );
    expect(lines).toEqual([
      '  references:',
      '    load                 D0   2026-12-03 00:00:00 .. 2026-12-04 00:00:00  1-20261203115900 FAIL  WAITING until 2026-12-04 12:00:00',
      '    task 7(extract)      D0   2026-12-03 00:00:00 .. 2026-12-04 00:00:00  no instance yet  FAIL: reference x (load / 7(extract)) timed out after 60 s',
    ]);
  });
});

describe('runs show: keys of a taskMode 2 task', () => {
  it('counts the keys that succeeded and names the other statuses', async () => {
    const { keysText } = await import('../../src/cli/client/runsCommands.js');
    const byStatus = { PENDING: 0, RUNNING: 0, SUCCESS: 4, FAIL: 1, TIMEOUT: 0, CANCEL: 0, INTERRUPTED: 0 };
    expect(keysText({ keys: { runNum: 2, total: 5, byStatus } } as never)).toBe('  keys 4/5 SUCCESS, 1 FAIL');
    expect(keysText({} as never)).toBe('');
  });
});
