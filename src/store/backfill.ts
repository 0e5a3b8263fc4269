// Backfill's write (contract §12): many instances of one flow in ONE transaction, each with its task
// instances, in the order given (so seqs, and with them the start order of instances due together, follow
// trigger times). An id that exists already (its minute has an instance, or an earlier one of the same
// call took it) is skipped and named; any other refusal (the flow gone, another user's edit lock) rolls the
// whole call back, so a failure creates none.
import type { FlowInstance } from '../domain/types.js';
import type { NewFlowInstance } from '../domain/instances.js';
import type { Ctx } from './db.js';
import { insertInstances } from './flowInstances.js';

export interface BackfillResult {
  created: FlowInstance[];
  /** Ids that existed (or repeated a minute of this call), in the order given. */
  skipped: string[];
}

// Writes: flow_instances and task_instances rows as createFlowInstance does, all in one transaction.
// Guards, in it: each create's flow exists in its org and (with lockUserId) is not locked by another user
// (else that error, and nothing is written); the primary key per instance (skipped, not an error).
export async function createFlowInstances(ctx: Ctx, inputs: NewFlowInstance[]): Promise<BackfillResult> {
  if (inputs.length === 0) return { created: [], skipped: [] };
  return ctx.dialect.transaction(async (conn) => {
    const done = await insertInstances(ctx, conn, inputs);
    const created: FlowInstance[] = [];
    const skipped: string[] = [];
    done.forEach((r, k) => {
      if (r instanceof Error) throw r;
      if (r === null) skipped.push(inputs[k].instance.id);
      else created.push(r);
    });
    return { created, skipped };
  });
}
