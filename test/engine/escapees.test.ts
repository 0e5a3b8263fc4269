// No process outlives its task (contract §5): a process that left the task's process group (setsid, a
// double fork) still carries the attempt's marker, and is killed when the attempt ends (by exit, timeout
// or cancel), whoever forked the task: the spawner helper or the service itself.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFlow, startInProcess, tempDir, waitFor, waitForInstanceEnd, type InProcess } from './harness.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
};

for (const spawner of ['spawner', 'direct'] as const) {
  describe(`escaped processes (${spawner} spawns)`, () => {
    let h: InProcess;
    const dir = tempDir('bf-escape-');
    beforeAll(async () => {
      h = await startInProcess({ spawner, killGraceMs: 300 });
    });
    afterAll(() => h.close());

    /** A task that starts `sleep 60` in a session of its own and writes its pid, then does `rest`. */
    const escaping = (name: string, rest: string) => {
      const pidFile = path.join(dir, `${spawner}-${name}.pid`);
      return { pidFile, cmd: `setsid sh -c 'echo $$ > ${pidFile}; exec sleep 60' < /dev/null > /dev/null 2>&1 & ${rest}` };
    };
    const readPid = (f: string) => waitFor(async () => (existsSync(f) && Number(readFileSync(f, 'utf8')) > 0 ? Number(readFileSync(f, 'utf8')) : null), 10_000, f);

    it.each([
      ['its task exits', 'sleep 0.5', 'SUCCESS', {}],
      ['its task times out', 'sleep 60', 'FAIL', { timeout: 1 }],
    ] as const)('kills a setsid escapee when %s', async (what, rest, status, extra) => {
      const t = escaping(what.replace(/\W+/g, '_'), rest);
      const flowId = await importFlow(h.client, `escape_${spawner}_${what.replace(/\W+/g, '_')}`, [{ name: 'e', cmd: t.cmd, ...extra }]);
      const id = await h.client.trigger(flowId);
      const pid = await readPid(t.pidFile);
      expect((await waitForInstanceEnd(h.client, id, 30_000)).statusDesc).toBe(status);
      await waitFor(async () => !alive(pid), 5_000, `escapee ${pid} to die`);
    });

    it('kills a setsid escapee when its instance is cancelled', async () => {
      const t = escaping('cancel', 'sleep 60');
      const flowId = await importFlow(h.client, `escape_${spawner}_cancel`, [{ name: 'e', cmd: t.cmd }]);
      const id = await h.client.trigger(flowId);
      const pid = await readPid(t.pidFile);
      expect(alive(pid)).toBe(true);
      await h.client.cancel(id);
      await waitFor(async () => !alive(pid), 10_000, `escapee ${pid} to die`);
    });
  });
}
