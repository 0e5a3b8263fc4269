// The HTTP floor for the trigger benchmark: a trivial fastify server, in its own process like
// `batchflow serve` and started the same way (node --import tsx), answering POST on Trigger Flow's path
// with a V2.1 envelope of the same shape and about the same size as Trigger Flow's
// (`{code, msg, requestId, data: {flowInstanceId}}`). It parses the JSON body and does nothing else: what
// is left of batchflow's cost per trigger beyond this is the service's own work.
// Usage: node --import tsx bench/httpFloorServer.ts PORT; prints "serving on" when it listens.
import Fastify from 'fastify';
import { randomUUID } from 'node:crypto';

const port = Number(process.argv[2]);
const app = Fastify({ logger: false, genReqId: () => randomUUID() });
app.post('/batch-processing-service/v2.1/flows', async (req) => {
  const body = req.body as { flowId?: number; triggerTime?: number };
  return { code: 0, msg: 'OK', requestId: req.id, data: { flowInstanceId: `${body.flowId}-${Math.floor(Number(body.triggerTime) / 60_000)}` } };
});
await app.listen({ host: '127.0.0.1', port });
console.log(`http floor: serving on http://127.0.0.1:${port}`);
