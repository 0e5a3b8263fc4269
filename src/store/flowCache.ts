// Flows to run, kept in memory (Store.getFlowToRun with `maybeStale`): a trigger takes its flow from here
// rather than reading the row. An entry may be stale (another process, or a write since), so a create
// built from one names the row's version it saw (NewFlowInstance.flowVersion) and the creating
// transaction refuses it when the row has moved (StaleFlowError); the caller then reads the row again.
// Per store, bounded, least recently filled first out; an entry leaves on every write of its flow here.
import type { FlowWithTasks } from '../domain/types.js';
import type { Ctx } from './db.js';
import { storeCache } from './storeCache.js';

/** Flows kept per store at most. */
const CACHE_SIZE = 10_000;

const cache = storeCache<number, FlowWithTasks>(CACHE_SIZE);

/** The flow as last read by this process, if it is the org's; possibly stale. */
export function cachedFlowToRun(ctx: Ctx, orgId: string, flowId: number): FlowWithTasks | undefined {
  const fw = cache.get(ctx, flowId);
  return fw && fw.flow.orgId === orgId ? fw : undefined;
}

/** Keeps a flow just read (frozen: every trigger of it shares the object). */
export function rememberFlowToRun(ctx: Ctx, fw: FlowWithTasks): void {
  Object.freeze(fw.flow);
  cache.set(ctx, fw.flow.id, Object.freeze(fw));
}

export function forgetFlowToRun(ctx: Ctx, flowId: number): void {
  cache.delete(ctx, flowId);
}
