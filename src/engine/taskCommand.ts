// Turns a task into what the executor runs: argv, the complete (clean) environment and the files
// to write into the attempt's work dir; plus the log banner and the success-code rule. Pure: it
// reads no environment and touches no file, so the service's own variables can never leak in.
import path from 'node:path';
import { loaderKeyProblem } from '../domain/params.js';

export interface TaskCommandInput {
  type: 'SHELL' | 'PYTHON';
  renderedCmd: string;
  workDir: string;
  pythonPath: string;
  /** User parameters after substitution; exported when the key is a valid env name (no '.'). */
  params: Map<string, string>;
  context: {
    instanceId: string;
    flowInstanceId: string;
    taskId: number;
    taskInstanceId: string;
    runNum: number;
    triggerTime: number;
    triggerTimeText: string;
    timezone: string;
    dataDir: string;
    /** The store's id: the marker names it, so that another service's recovery never touches this process. */
    storeId: string;
  };
  /** PATH for tasks; the dir of pythonPath is put in front. */
  basePath?: string;
}

export interface TaskCommand {
  argv: [string, ...string[]];
  env: Record<string, string>;
  files: Array<{ path: string; content: string }>;
}

const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESERVED = new Set(['PATH', 'HOME', 'LANG', 'TZ']);
export const ATTEMPT_MARKER = 'BATCHFLOW_ATTEMPT';
/**
 * Every task starts with umask 022 (files it makes readable, not writable, by others), whatever umask the
 * service runs with (it may keep its own files private). Set by the command itself, not by the process
 * that forks it: the same for the spawner helper and direct spawns, and for any future executor.
 */
export const TASK_UMASK = '022';

/**
 * Runs task.py as __main__, then calls main() when the script defines it and does not call it itself
 * (a top-level `if __name__ == "__main__":` or `main()` statement). main() must return exactly 0;
 * another int becomes the exit code (so successCode lists apply), anything else exits 1.
 * stderr is merged into stdout first so the log keeps the exact interleaving; the umask is TASK_UMASK.
 */
export const PYTHON_WRAPPER = String.raw`import ast, os, runpy, sys, traceback
os.umask(0o${TASK_UMASK})
os.dup2(1, 2)
path = sys.argv[1]
sys.argv = [path]
sys.path[0] = os.path.dirname(os.path.abspath(path))

def calls_main_itself(src):
    try:
        tree = ast.parse(src, path)
    except SyntaxError:
        return False
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Compare) and len(node.test.comparators) == 1:
            sides = [node.test.left, node.test.comparators[0]]
            if any(isinstance(s, ast.Name) and s.id == '__name__' for s in sides) and \
               any(isinstance(s, ast.Constant) and s.value == '__main__' for s in sides):
                return True
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and \
           isinstance(node.value.func, ast.Name) and node.value.func.id == 'main':
            return True
    return False

def report(e):
    tb = e.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != path:
        tb = tb.tb_next
    traceback.print_exception(type(e), e, tb if tb is not None or isinstance(e, SyntaxError) else e.__traceback__)

with open(path, 'rb') as f:
    calls_itself = calls_main_itself(f.read())
try:
    main = runpy.run_path(path, run_name='__main__').get('main')
    if calls_itself or not callable(main):
        sys.exit(0)
    r = main()
except Exception as e:
    report(e)
    sys.exit(1)
if type(r) is int and r == 0:
    sys.exit(0)
shown = 'None' if r is None else repr(r)[:200]
print('[batchflow] main() returned %s; return 0 for success' % shown, file=sys.stderr)
sys.exit(r if type(r) is int and 0 < r < 256 else 1)
`;

function taskPath(pythonPath: string, basePath: string): string {
  if (!path.isAbsolute(pythonPath)) return basePath;
  const dir = path.dirname(pythonPath);
  return basePath.split(':').includes(dir) ? basePath : `${dir}:${basePath}`;
}

export function buildTaskCommand(i: TaskCommandInput): TaskCommand {
  const c = i.context;
  const env: Record<string, string> = {};
  for (const [k, v] of i.params) {
    // Loader keys are refused when a definition is saved; a definition stored before that rule still
    // never gets one into a process.
    if (ENV_NAME.test(k) && !RESERVED.has(k) && !k.startsWith('BATCHFLOW_') && loaderKeyProblem(k) === null) env[k] = v;
  }
  Object.assign(env, {
    PATH: taskPath(i.pythonPath, i.basePath ?? DEFAULT_PATH),
    HOME: i.workDir,
    LANG: 'C.UTF-8',
    TZ: c.timezone,
    BATCHFLOW_INSTANCE_ID: c.instanceId,
    BATCHFLOW_TASK_ID: String(c.taskId),
    BATCHFLOW_TASK_INSTANCE_ID: c.taskInstanceId,
    BATCHFLOW_RUN_NUM: String(c.runNum),
    BATCHFLOW_TRIGGER_TIME: String(c.triggerTime),
    BATCHFLOW_TRIGGER_TIME_TEXT: c.triggerTimeText,
    [ATTEMPT_MARKER]: attemptMarkerValue(c.storeId, c.taskInstanceId, c.runNum),
  });
  if (i.type === 'SHELL') {
    // Two pipes cannot keep stdout/stderr order; one redirection in the same shell can, at no cost.
    // Same line, so the shell's line numbers in error messages stay the user's.
    return { argv: ['/bin/sh', '-c', `umask ${TASK_UMASK}; exec 2>&1; ${i.renderedCmd}`], env, files: [] };
  }
  const script = path.join(i.workDir, 'task.py');
  return { argv: [i.pythonPath, '-u', '-c', PYTHON_WRAPPER, script], env, files: [{ path: script, content: i.renderedCmd }] };
}

/**
 * The value of BATCHFLOW_ATTEMPT, by which an attempt's processes are found (at its end, and by recovery):
 * `<store id>/<task instance id>#<run num>`. Task ids restart at 1 in every store, so the store id is what
 * keeps two services on one host from ever matching each other's processes.
 */
export function attemptMarkerValue(storeId: string, taskInstanceId: string, runNum: number): string {
  return `${storeId}/${taskInstanceId}#${runNum}`;
}

export function attemptMarker(storeId: string, taskInstanceId: string, runNum: number): { name: string; value: string } {
  return { name: ATTEMPT_MARKER, value: attemptMarkerValue(storeId, taskInstanceId, runNum) };
}

const RULE = '='.repeat(60);

export function bannerText(b: {
  runNum: number;
  taskInstanceId: string;
  cmdline: string;
  submitter: string;
  now: number;
  timezone: string;
  javaDate: (ms: number, tz: string) => string;
}): string {
  return (
    `${RULE}\nrun num:\t${b.runNum}\ninstance:\t${b.taskInstanceId}\ncmdline:\t${b.cmdline}\n` +
    `submitter:\t${b.submitter}\ncurrent time:\t${b.javaDate(b.now, b.timezone)}\n${RULE}\n`
  );
}

/** successCode is a list of exit codes separated by commas, semicolons or spaces; empty means "0". */
export function isSuccessCode(successCode: string, exitCode: number): boolean {
  const codes = successCode.split(/[\s,;]+/).filter((t) => t !== '');
  if (codes.length === 0) return exitCode === 0;
  return codes.some((t) => /^-?\d+$/.test(t) && Number(t) === exitCode);
}
