// Pure pieces of the use cases: task type aliases (agreeing with the wire numbers), overrides, key casing.
import { describe, expect, it } from 'vitest';
import { taskTypeWire } from '../../src/api/wire.js';
import { camelKeys } from '../../src/service/input.js';
import { parseTaskType, TASK_TYPE_ALIASES } from '../../src/service/taskDefinition.js';
import { applyOverrides } from '../../src/service/triggers.js';

describe('task types', () => {
  it('accepts SHELL as 3, "3" and COMMAND, PYTHON as 8, in any case', () => {
    for (const v of ['SHELL', 'shell', 3, '3', 'COMMAND', 'command']) expect(parseTaskType(v, 'type')).toBe('SHELL');
    for (const v of ['PYTHON', 'python', 8, '8']) expect(parseTaskType(v, 'type')).toBe('PYTHON');
  });

  it('refuses anything else naming the field', () => {
    for (const v of ['SPARK', 7, '', null, {}]) expect(() => parseTaskType(v, 'tasks[1].type')).toThrow(/tasks\[1\]\.type must be SHELL/);
  });

  it('shows each type as the number its alias accepts', () => {
    for (const [alias, type] of Object.entries(TASK_TYPE_ALIASES)) {
      if (/^\d+$/.test(alias)) expect(taskTypeWire(type)).toBe(Number(alias));
    }
  });
});

describe('applyOverrides', () => {
  it('replaces given keys in place, keeps the others and appends new ones', () => {
    const flow = [{ key: 'a', value: '1' }, { key: 'b', value: '2' }];
    expect(applyOverrides(flow, [{ key: 'c', value: '9' }, { key: 'b', value: 'x' }])).toEqual([
      { key: 'a', value: '1' },
      { key: 'b', value: 'x' },
      { key: 'c', value: '9' },
    ]);
    expect(flow).toEqual([{ key: 'a', value: '1' }, { key: 'b', value: '2' }]);
  });
});

describe('camelKeys', () => {
  it('turns snake_case keys into camelCase, a camelCase key given too wins', () => {
    expect(camelKeys({ flow_id: 1, trigger_time: 2, max_length: 3, plain: 4 })).toEqual({ flowId: 1, triggerTime: 2, maxLength: 3, plain: 4 });
    expect(camelKeys({ flow_id: 1, flowId: 2 })).toEqual({ flowId: 2 });
    expect(camelKeys({ _private: 1, 'Upper_Case': 2 })).toEqual({ _private: 1, Upper_Case: 2 });
  });
});
