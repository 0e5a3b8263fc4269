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

describe('runs show: alerts', () => {
  it('lists each alert with its channels, and nothing without alerts', async () => {
    const { alertLines } = await import('../../src/cli/client/runsCommands.js');
    expect(alertLines({} as never)).toEqual([]);
    const alert = {
      alertId: 'a1', event: 'FAIL', taskInstId: null, runNum: null, reason: 'task boom failed', status: 'PENDING', tries: 2,
      createdAt: '2026-12-03 10:00:00', createdAtMs: 0, nextTryAt: '2026-12-03 10:00:20', nextTryAtMs: 0,
      deliveries: [
        { channel: 'email', to: ['alice@example.com'], status: 'SENT', tries: 1, error: null, sentAt: '2026-12-03 10:00:01', sentAtMs: 0 },
        { channel: 'sms', to: ['+49 170 1'], status: 'RETRYING', tries: 2, error: 'connect ECONNREFUSED', sentAt: null, sentAtMs: null },
      ],
    };
    expect(alertLines({ alerts: [alert] } as never)).toEqual([
      '  alerts:',
      '    FAIL           PENDING  2026-12-03 10:00:00  next try 2026-12-03 10:00:20',
      '      email    SENT      alice@example.com  tries 1',
      '      sms      RETRYING  +49 170 1  tries 2  (connect ECONNREFUSED)',
    ]);
  });
});
