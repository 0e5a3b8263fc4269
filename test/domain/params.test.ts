import { describe, expect, it } from 'vitest';
import type { ParamContext } from '../../src/domain/params.js';
import { loaderKeyProblem, PARAM_KEY, parseParams, renderCommand, resolveParameters, substitute, systemVariable } from '../../src/domain/params.js';
import { DomainError } from '../../src/domain/errors.js';

const SH = 'Asia/Shanghai';
// The reference's example: triggered 2017-05-27 13:50:41 GMT+8, unix_timestamp 1495864241.
const EXAMPLE = 1495864241000;
const ids = { taskId: 613010, instanceId: '613010-20170527135000' };
const at = (iso: string) => Date.parse(iso);

function rejection(input: unknown): { field?: string; message: string } {
  try {
    parseParams(input, 'parameters');
  } catch (e) {
    if (e instanceof DomainError && e.kind === 'invalid') return { field: e.field, message: e.message };
    throw e;
  }
  throw new Error('parseParams accepted the input');
}

describe('PARAM_KEY', () => {
  it.each([['a', true], ['_a.b1', true], ['A_B', true], ['1a', false], ['a-b', false], ['', false], ['a b', false], ['.a', false]])(
    'says %j is a key: %s',
    (key, ok) => expect(PARAM_KEY.test(key)).toBe(ok),
  );
});

describe('loaderKeyProblem', () => {
  it.each([
    // the list
    'LD_PRELOAD', 'LD_LIBRARY_PATH', 'NODE_OPTIONS', 'PYTHONPATH', 'BASH_ENV', 'ENV',
    // the dynamic loader and the C library
    'LD_AUDIT', 'LD_BIND_NOW', 'DYLD_INSERT_LIBRARIES', 'DYLD_LIBRARY_PATH', 'MALLOC_CHECK_', 'GLIBC_TUNABLES', 'GCONV_PATH', 'LOCPATH', 'NLSPATH',
    'HOSTALIASES', 'RESOLV_HOST_CONF', 'OPENSSL_CONF', 'OPENSSL_MODULES',
    // shells
    'IFS', 'PS4', 'SHELLOPTS', 'BASHOPTS', 'PROMPT_COMMAND', 'CDPATH', 'GLOBIGNORE', 'ZDOTDIR', 'BASH_FUNC_x%%', 'BASH_XTRACEFD', 'BASH_LOADABLES_PATH',
    // interpreters and runtimes
    'PYTHONSTARTUP', 'PYTHONHOME', 'PYTHONUSERBASE', 'PYTHONINSPECT', 'NODE_PATH', 'PERL5OPT', 'PERL5LIB', 'PERLLIB', 'PERL5DB', 'RUBYOPT', 'RUBYLIB',
    'JAVA_TOOL_OPTIONS', '_JAVA_OPTIONS', 'JDK_JAVA_OPTIONS', 'CLASSPATH', 'LUA_INIT', 'LUA_PATH', 'PHPRC', 'PHP_INI_SCAN_DIR', 'TCLLIBPATH',
    'R_PROFILE', 'R_PROFILE_USER', 'R_ENVIRON', 'R_ENVIRON_USER',
  ])('refuses %s', (key) => {
    expect(loaderKeyProblem(key)).toMatch(`parameter key "${key}" is refused`);
  });
  it.each(['ld_preload', 'date', 'cal_dt', 'MY_ENV', 'ENVIRONMENT', 'PYTH', 'a.LD_PRELOAD', 'BASH', 'LUA', 'region', 'OLD_PATH', 'ifs', 'xLD_PRELOAD'])('accepts %s', (key) => {
    expect(loaderKeyProblem(key)).toBeNull();
  });
  it('is applied by parseParams, naming the field', () => {
    expect(() => parseParams([{ key: 'LD_PRELOAD', value: '/tmp/x.so' }], 'parameters')).toThrow('parameters: parameter key "LD_PRELOAD" is refused');
  });
});

describe('parseParams', () => {
  it.each([
    ['undefined', undefined, []],
    ['null', null, []],
    ['an empty string', '', []],
    ['an empty array', [], []],
    ['an array of {key,value}', [{ key: 'a', value: 'x' }, { key: 'b', value: '' }], [{ key: 'a', value: 'x' }, { key: 'b', value: '' }]],
    ['numbers and booleans as strings', [{ key: 'n', value: 3.5 }, { key: 'f', value: false }], [{ key: 'n', value: '3.5' }, { key: 'f', value: 'false' }]],
    ['an object map', { a: 'x', n: 2, t: true }, [{ key: 'a', value: 'x' }, { key: 'n', value: '2' }, { key: 't', value: 'true' }]],
    ['a JSON string of an array', '[{"key":"a","value":"1"}]', [{ key: 'a', value: '1' }]],
    ['a JSON string of a map', ' {"a":"1","b.c":2} ', [{ key: 'a', value: '1' }, { key: 'b.c', value: '2' }]],
    ['key=value lines with blank lines and CRLF', 'a=1\r\n\r\n  b = two words \nc=', [{ key: 'a', value: '1' }, { key: 'b', value: 'two words' }, { key: 'c', value: '' }]],
    ['a value with = and quotes kept', 'url="http://h/x?a=b"', [{ key: 'url', value: '"http://h/x?a=b"' }]],
  ])('reads %s', (_what, input, expected) => {
    expect(parseParams(input, 'parameters')).toEqual(expected);
  });

  it.each([
    ['a bad key in an array', [{ key: '1a', value: '' }], 'parameters: invalid parameter key "1a" (allowed: [A-Za-z_][A-Za-z0-9_.]*)'],
    ['a bad key in a map', { 'a-b': 'x' }, 'parameters: invalid parameter key "a-b" (allowed: [A-Za-z_][A-Za-z0-9_.]*)'],
    ['a bad key in lines', 'ok=1\n a b = 2', 'parameters: invalid parameter key "a b" (allowed: [A-Za-z_][A-Za-z0-9_.]*)'],
    ['an empty key', '=x', 'parameters: invalid parameter key "" (allowed: [A-Za-z_][A-Za-z0-9_.]*)'],
    ['a duplicate key in an array', [{ key: 'a', value: '1' }, { key: 'a', value: '2' }], 'parameters: duplicate parameter key "a"'],
    ['a duplicate key in lines', 'a=1\na=2', 'parameters: duplicate parameter key "a"'],
    ['a line without =', 'a=1\n\njust text', 'parameters line 3 is not key=value: "just text"'],
    ['malformed JSON', '[{"key":', 'parameters is not valid JSON'],
    ['an array element that is not an object', ['a=1'], 'parameters[0] must be an object {key, value}'],
    ['an element without a string key', [{ key: 'a', value: '' }, { value: 'x' }], 'parameters[1].key must be a string'],
    ['a null value', [{ key: 'a', value: null }], 'parameters[0].value (key "a") must be a string, number or boolean'],
    ['an object value', [{ key: 'a', value: { x: 1 } }], 'parameters[0].value (key "a") must be a string, number or boolean'],
    ['a nested map value', { a: [1] }, 'parameters.a must be a string, number or boolean'],
    ['a number', 42, 'parameters must be a list of {key, value}, an object, or key=value lines'],
    ['a quoted key=value line', '"a=1"', 'parameters: invalid parameter key ""a"'],
  ])('refuses %s, naming it', (_what, input, message) => {
    const r = rejection(input);
    expect(r.field).toBe('parameters');
    expect(r.message.startsWith(message)).toBe(true);
  });
});

describe('systemVariable', () => {
  it.each([
    ['cal_dt', '2017-05-26'],
    ['cal_dt8', '20170526'],
    ['cal_dt-1', '2017-05-25'],
    ['cal_dt8-1', '20170525'],
    ['cal_dt-0', '2017-05-26'],
    ['cal_dt-30', '2017-04-26'],
    ['cal_dt8-365', '20160526'],
    ['ncal_dt', '2017-05-27'],
    ['ncal_dt8', '20170527'],
    ['last_week10', '2017-05-20'],
    ['last_week8', '20170520'],
    ['first_day_this_month10', '2017-05-01'],
    ['first_day_this_month8', '20170501'],
    ['end_day_this_month10', '2017-05-31'],
    ['end_day_this_month8', '20170531'],
    ['first_day_last_month10', '2017-04-01'],
    ['first_day_last_month8', '20170401'],
    ['last_day_last_month10', '2017-04-30'],
    ['last_day_last_month8', '20170430'],
    ['monday_next_week10', '2017-05-29'],
    ['monday_next_week8', '20170529'],
    ['30days_cal_dt', '2017-04-26'],
    ['hcal_dt8', '20170526'],
    ['cal_hr', '12'],
    ['this_hour', '2017-05-27 13:00:00'],
    ['unix_timestamp', '1495864241'],
    ['task_id', '613010'],
    ['instance_id', '613010-20170527135000'],
  ])('gives ${%s} = %s for the reference example', (name, expected) => {
    expect(systemVariable(name, EXAMPLE, SH, ids)).toBe(expected);
  });

  it.each(['env.APP_ID', 'env.APP_CUSTOMER', 'cal_dt10', 'ncal_dt10', 'last_week', 'cal_dt+1', 'cal_dt-x', 'HOME', ''])(
    'leaves %j undefined',
    (name) => expect(systemVariable(name, EXAMPLE, SH, ids)).toBeUndefined(),
  );

  it('reproduces the hcal example: business time 2017-05-26 00:30 (trigger 2017-05-27 00:30) gives 20170525 / 23', () => {
    const trigger = at('2017-05-26T16:30:00Z'); // 2017-05-27 00:30 GMT+8
    expect(systemVariable('hcal_dt8', trigger, SH, ids)).toBe('20170525');
    expect(systemVariable('cal_hr', trigger, SH, ids)).toBe('23');
  });

  it.each([
    // Trigger 2017-03-01 10:00 GMT+8: business date 2017-02-28.
    ['2017-03-01T02:00:00Z', { cal_dt: '2017-02-28', first_day_last_month10: '2017-01-01', last_day_last_month8: '20170131', end_day_this_month10: '2017-02-28', monday_next_week10: '2017-03-06', ncal_dt: '2017-03-01' }],
    // Trigger 2017-01-01 10:00 GMT+8: business date 2016-12-31, a Saturday.
    ['2017-01-01T02:00:00Z', { cal_dt8: '20161231', first_day_last_month10: '2016-11-01', last_day_last_month10: '2016-11-30', first_day_this_month8: '20161201', monday_next_week10: '2017-01-02', last_week10: '2016-12-25' }],
    // Trigger 2024-03-05 10:00 GMT+8: business date 2024-03-04, a Monday -> the next Monday; leap February.
    ['2024-03-05T02:00:00Z', { monday_next_week8: '20240311', last_day_last_month10: '2024-02-29', '30days_cal_dt': '2024-02-03', 'cal_dt-4': '2024-02-29' }],
  ])('computes month and week boundaries for a trigger at %s', (iso, expected) => {
    for (const [name, value] of Object.entries(expected)) {
      expect([name, systemVariable(name, at(iso), SH, ids)]).toEqual([name, value]);
    }
  });

  it('evaluates in the given zone: one instant is a different business date in UTC and Shanghai', () => {
    const t = at('2017-05-26T20:00:00Z');
    expect(systemVariable('cal_dt', t, 'UTC', ids)).toBe('2017-05-25');
    expect(systemVariable('cal_dt', t, SH, ids)).toBe('2017-05-26');
    expect(systemVariable('this_hour', t, 'Asia/Kolkata', ids)).toBe('2017-05-27 01:00:00');
  });
});

describe('substitute', () => {
  const lookup = (name: string) => ({ a: 'A', b: '${a}', empty: '' } as Record<string, string>)[name];
  it.each([
    ['replaces known names', 'x ${a} ${a}', 'x A A'],
    ['leaves unknown names exactly as written', 'echo ${HOME} ${a:-d} ${}', 'echo ${HOME} ${a:-d} ${}'],
    ['does not expand substituted values again', 'v=${b}', 'v=${a}'],
    ['replaces with an empty value', '[${empty}]', '[]'],
    ['evaluates $[...] time expressions', 'd=$[yyyyMMdd] h=$[yyyyMMddHHmmss-1/24]', 'd=20170527 h=20170527125041'],
    ['leaves unknown $[...] as is', 'echo $[1+2] $[foo]', 'echo $[1+2] $[foo]'],
    ['keeps a lone $ and braces', 'cost $5 {a} $a', 'cost $5 {a} $a'],
  ])('%s', (_what, text, expected) => {
    expect(substitute(text, lookup, EXAMPLE, SH)).toBe(expected);
  });
});

describe('resolveParameters and renderCommand', () => {
  const ctx = (over: Partial<ParamContext> = {}): ParamContext => ({
    triggerTime: EXAMPLE, tz: SH, taskId: 7, instanceId: '7-20170527135000', flowParams: [], taskParams: [], overrides: [], ...over,
  });

  it('applies precedence system < flow < task < overrides', () => {
    const { values, lookup } = resolveParameters(ctx({
      flowParams: [{ key: 'cal_dt', value: 'flow' }, { key: 'x', value: 'flow' }, { key: 'y', value: 'flow' }, { key: 'z', value: 'flow' }],
      taskParams: [{ key: 'y', value: 'task' }, { key: 'z', value: 'task' }],
      overrides: [{ key: 'z', value: 'override' }],
    }));
    expect(Object.fromEntries(values)).toEqual({ cal_dt: 'flow', x: 'flow', y: 'task', z: 'override' });
    expect([lookup('cal_dt'), lookup('x'), lookup('y'), lookup('z'), lookup('cal_dt8'), lookup('nope')]).toEqual(['flow', 'flow', 'task', 'override', '20170526', undefined]);
  });

  it('substitutes system variables and $[...] into values, but not other user parameters', () => {
    const { values } = resolveParameters(ctx({
      flowParams: [{ key: 'dir', value: '/data/${cal_dt8}/$[HHmm]' }, { key: 'base', value: '/b' }, { key: 'ref', value: '${base}/x ${HOME}' }],
    }));
    expect(Object.fromEntries(values)).toEqual({ dir: '/data/20170526/1350', base: '/b', ref: '${base}/x ${HOME}' });
  });

  it('renders a command with parameters, system variables, time expressions and shell variables', () => {
    const cmd = 'sh run.sh -i ${inputPath} -d ${cal_dt} -u ${unix_timestamp} -t ${task_id} -h ${HOME} $[yyyy-MM-dd-1]';
    const out = renderCommand(cmd, ctx({ flowParams: [{ key: 'inputPath', value: '/user/hive/${cal_dt8}' }] }));
    expect(out).toBe('sh run.sh -i /user/hive/20170526 -d 2017-05-26 -u 1495864241 -t 7 -h ${HOME} 2017-05-26');
  });
});
