// Everything a request could have written, as one comparable value: flows with tasks, instances with
// their task instances, directories, of every org.
import type { Store } from '../../src/store/store.js';

export async function storeSnapshot(store: Store): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const org of await store.listOrgs()) {
    const flows = [];
    for (const f of await store.listFlows(org.id)) flows.push(await store.getFlow(org.id, f.id));
    const { instances } = await store.searchFlowInstances({ orgId: org.id, sort: [{ field: 'createTime', desc: false }], offset: 0, limit: 100_000 });
    const tasks = [];
    for (const i of instances) tasks.push(await store.listTaskInstances(i.id));
    out[org.id] = { flows, instances, tasks, dirs: await store.listDirectories(org.id) };
  }
  return out;
}
