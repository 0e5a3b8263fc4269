// The dialect-neutral Store over Kysely<DB>: wires the per-aggregate query files to the Store interface
// and publishes events strictly after the write committed. Backend adapters (sqlite.ts, later pg.ts)
// only build the Kysely instance and the StoreDialect; they never write queries of their own.
import * as referenceWaits from './referenceWaits.js';
import type { Kysely, KyselyConfig } from 'kysely';
import type { Store, StoreEvent } from './store.js';
import type { Ctx, DB, StoreDialect } from './db.js';
import * as alerts from './alerts.js';
import * as auth from './auth.js';
import * as identity from './identity.js';
import * as directories from './directories.js';
import * as flows from './flows.js';
import * as instances from './flowInstances.js';
import * as instanceSearch from './instanceSearch.js';
import * as taskInstances from './taskInstances.js';
import * as logs from './logs.js';
import * as taskKeys from './taskKeys.js';
import * as rerun from './rerun.js';
import * as backfill from './backfill.js';
import * as idempotency from './idempotency.js';
import * as schedule from './schedule.js';
import * as engines from './engines.js';
import * as history from './history.js';
import * as versions from './versions.js';
import * as purge from './purge.js';
import * as stats from './stats.js';
import { engineTxOn } from './engineTx.js';
import { forgetFlowToRun } from './flowCache.js';
import { migrate } from './migrations/index.js';

export function createKyselyStore(db: Kysely<DB>, dialect: StoreDialect): Store {
  const ctx: Ctx = { db, dialect };
  const emit = (e: StoreEvent) => dialect.publish(e);
  return {
    migrate: () => migrate(db, dialect),
    close: () => dialect.close(),
    onEvent: (listener) => dialect.subscribe(listener),
    announce: emit,

    createOrg: (org) => identity.createOrg(ctx, org),
    getOrg: (id) => identity.getOrg(ctx, id),
    listOrgs: () => identity.listOrgs(ctx),
    createUser: (user) => identity.createUser(ctx, user),
    getUser: (id) => identity.getUser(ctx, id),
    getUserByName: (name) => identity.getUserByName(ctx, name),
    setUserLocked: (id, locked) => identity.setUserLocked(ctx, id, locked),
    setUserContact: (id, contact) => identity.setUserContact(ctx, id, contact),
    claimMasterKeyId: (keyId) => auth.claimMasterKeyId(ctx, keyId),
    createApp: (app) => auth.createApp(ctx, app),
    getApp: (key) => auth.getApp(ctx, key),
    listApps: (orgId) => auth.listApps(ctx, orgId),
    revokeApp: (key, at) => auth.revokeApp(ctx, key, at),
    tokenFor: (key, validPast, make) => auth.tokenFor(ctx, key, validPast, make),
    replaceToken: (oldHash, next) => auth.replaceToken(ctx, oldHash, next),
    findToken: (hash) => auth.findToken(ctx, hash),
    rememberNonce: (nonce, expiresAt) => auth.rememberNonce(ctx, nonce, expiresAt),
    rememberNonces: (items) => auth.rememberNonces(ctx, items),
    purgeAuth: (now) => auth.purgeAuth(ctx, now),
    resealSecrets: (reseal, keyId) => auth.resealSecrets(ctx, reseal, keyId),

    createDirectory: (dir) => directories.createDirectory(ctx, dir),
    getDirectory: (orgId, id) => directories.getDirectory(ctx, orgId, id),
    getRootDirectory: (orgId) => directories.getRootDirectory(ctx, orgId),
    listDirectories: (orgId) => directories.listDirectories(ctx, orgId),

    async createFlow(input) {
      const created = await flows.createFlow(ctx, input);
      emit({ type: 'flowChanged', flowId: created.flow.id });
      return created;
    },
    getFlow: (orgId, flowId) => flows.getFlow(ctx, orgId, flowId),
    getFlowToRun: (orgId, flowId, opts) => flows.getFlowToRun(ctx, orgId, flowId, opts),
    listFlows: (orgId) => flows.listFlows(ctx, orgId),
    listFlowHeads: (orgId, user) => flows.listFlowHeads(ctx, orgId, user),
    searchFlows: (q) => flows.searchFlows(ctx, q),
    async updateFlow(orgId, update) {
      const updated = await flows.updateFlow(ctx, orgId, update);
      forgetFlowToRun(ctx, updated.flow.id);
      emit({ type: 'flowChanged', flowId: updated.flow.id });
      return updated;
    },
    async setFlowActive(orgId, flowId, active, updateUser, at, userId) {
      await flows.setFlowActive(ctx, orgId, flowId, active, updateUser, at, userId).finally(() => forgetFlowToRun(ctx, flowId));
      emit({ type: 'flowChanged', flowId });
    },
    // Its lock columns are part of the cached flow: the next trigger reads the row again.
    takeEditLock: (orgId, flowId, lock, now) => flows.takeEditLock(ctx, orgId, flowId, lock, now).finally(() => forgetFlowToRun(ctx, flowId)),
    async deleteFlow(orgId, flowId, userId, now) {
      await flows.deleteFlow(ctx, orgId, flowId, userId, now).finally(() => forgetFlowToRun(ctx, flowId));
      emit({ type: 'flowChanged', flowId });
    },
    listPeriodicFlows: () => flows.listPeriodicFlows(ctx),
    getFlowById: (flowId) => schedule.getFlowById(ctx, flowId),
    listFlowVersions: (orgId, flowId) => versions.listFlowVersions(ctx, orgId, flowId),
    getFlowVersion: (orgId, flowId, number) => versions.getFlowVersion(ctx, orgId, flowId, number),
    lastScheduledFireTime: (flowId) => schedule.lastScheduledFireTime(ctx, flowId),

    async createFlowInstance(input) {
      const inst = await instances.createFlowInstance(ctx, input);
      emit({ type: 'instanceCreated', flowId: inst.flowId, instanceId: inst.id, dueAt: inst.dueAt });
      return inst;
    },
    async createFlowInstances(inputs) {
      const done = await backfill.createFlowInstances(ctx, inputs);
      // One event per flow: the engine starts its instances one at a time from the store's order anyway.
      const first = done.created[0];
      if (first) emit({ type: 'instanceCreated', flowId: first.flowId, instanceId: first.id, dueAt: Math.min(...done.created.map((i) => i.dueAt)) });
      return done;
    },
    getFlowInstance: (orgId, id) => instances.getFlowInstance(ctx, orgId, id),
    listTaskInstances: (flowInstanceId) => taskInstances.listTaskInstances(ctx, flowInstanceId),
    listTaskInstancesOf: (flowInstanceIds) => taskInstances.listTaskInstancesOf(ctx, flowInstanceIds),
    getTaskInstance: (orgId, id) => taskInstances.getTaskInstance(ctx, orgId, id),
    listAttempts: (taskInstanceId) => taskInstances.listAttempts(ctx, taskInstanceId),
    listAttemptsOfInstance: (flowInstanceId) => taskInstances.listAttemptsOfInstance(ctx, flowInstanceId),
    searchFlowInstances: (q) => instanceSearch.searchFlowInstances(ctx, q),
    async cancelInstance(orgId, id, at, reason, userId) {
      const inst = await instances.cancelInstance(ctx, orgId, id, at, reason, userId);
      emit({ type: 'instanceCancelled', flowId: inst.flowId, instanceId: inst.id });
      return inst;
    },
    async rerunInstance(req) {
      const done = await rerun.rerunInstance(ctx, req);
      // The engine hears of it as of a new instance: the flow's next instance may start.
      emit({ type: 'instanceCreated', flowId: done.instance.flowId, instanceId: done.instance.id, dueAt: done.instance.dueAt });
      return done;
    },
    claimIdempotencyKey: (req) => idempotency.claimIdempotencyKey(ctx, req),
    completeIdempotencyKey: (scope, key, hash, answer, now, ttlMs) => idempotency.completeIdempotencyKey(ctx, scope, key, hash, answer, now, ttlMs),
    releaseIdempotencyKey: (scope, key, hash) => idempotency.releaseIdempotencyKey(ctx, scope, key, hash),
    purgeIdempotencyKeys: (now) => idempotency.purgeIdempotencyKeys(ctx, now),
    getLogTail: (taskInstanceId, maxChars) => logs.getLogTail(ctx, taskInstanceId, maxChars),
    readLogTail: (taskInstanceId, maxChars) => logs.readLogTail(ctx, taskInstanceId, maxChars),
    readLogAfter: (taskInstanceId, after, limit) => logs.readLogAfter(ctx, taskInstanceId, after, limit),

    storeId: () => engines.storeId(ctx),
    engineTx: (fn) => dialect.transaction((conn) => fn(engineTxOn(ctx, conn))),
    registerEngine: (e) => engines.registerEngine(ctx, e),
    renewEngineLease: (id, now, leaseUntil) => engines.renewEngineLease(ctx, id, now, leaseUntil),
    expireEngine: (id, seen, now) => engines.expireEngine(ctx, id, seen, now),
    stopEngine: (id, now) => engines.stopEngine(ctx, id, now),
    listEngines: () => engines.listEngines(ctx),
    listOpenAttemptsOf: (engineId) => engines.listOpenAttemptsOf(ctx, engineId),
    listFlowsWithDueInstances: (now) => instances.listFlowsWithDueInstances(ctx, now),
    nextWakeAt: (now) => instances.nextWakeAt(ctx, now),
    listStalledInstances: (limit) => instances.listStalledInstances(ctx, limit),
    getFlowInstanceById: (id) => instances.getFlowInstanceById(ctx, id),
    getTaskInstanceById: (id) => taskInstances.getTaskInstanceById(ctx, id),
    recordAttemptProcess: (taskInstanceId, runNum, p) => taskInstances.recordAttemptProcess(ctx, taskInstanceId, runNum, p),
    appendLog: (taskInstanceId, runNum, text) => logs.appendLog(ctx, taskInstanceId, runNum, text),
    recordKeyResults: (taskInstanceId, runNum, engineId, states, now) => taskKeys.recordKeyResults(ctx, taskInstanceId, runNum, engineId, states, now),
    keyState: (taskInstanceId) => taskKeys.keyState(ctx, taskInstanceId),
    keyCounts: (taskInstanceIds) => taskKeys.keyCounts(ctx, taskInstanceIds),
    listHistory: (flowInstanceId) => history.listHistory(ctx, flowInstanceId),
    listReferenceWaits: (flowInstanceId) => referenceWaits.waitsOf(ctx, ctx.db, flowInstanceId),
    referenceBinding: (refFlowId, refTaskId, start, end) => referenceWaits.bindingOf(ctx, ctx.db, refFlowId, refTaskId, start, end),
    listTaskHistory: (taskInstanceId) => history.listTaskHistory(ctx, taskInstanceId),

    claimAlerts: (owner, now, leaseMs, limit) => alerts.claimAlerts(ctx, owner, now, leaseMs, limit),
    recordAlertResult: (claim, result, now) => alerts.recordAlertResult(ctx, claim, result, now),
    listAlerts: (flowInstanceId) => alerts.listAlerts(ctx, flowInstanceId),
    nextAlertAt: () => alerts.nextAlertAt(ctx),

    purgeInstances: (req) => purge.purgeInstances(ctx, req),
    reclaimSpace: (opts) => dialect.reclaimSpace(opts),

    ping: () => stats.ping(ctx),
    workCounts: (now) => stats.workCounts(ctx, now),
    storeSize: () => stats.storeSize(ctx),
  };
}

/** In-process event delivery for single-process backends: listeners run after commit; a throwing listener
 * is reported as a process warning and never turns a committed write into a rejected promise. */
export function localEvents(): Pick<StoreDialect, 'publish' | 'subscribe'> {
  const listeners = new Set<(e: StoreEvent) => void>();
  return {
    publish(e) {
      for (const l of [...listeners]) {
        try {
          l(e);
        } catch (err) {
          process.emitWarning(err instanceof Error ? err : new Error(String(err)), 'StoreEventListenerError');
        }
      }
    },
    subscribe(listener) {
      const wrapped = (e: StoreEvent) => listener(e);
      listeners.add(wrapped);
      return () => listeners.delete(wrapped);
    },
  };
}

/** Kysely's `log` hook for an adapter's onQuery option (undefined: no hook, no cost). */
export function queryLog(onQuery?: (sql: string, parameters: readonly unknown[]) => void): KyselyConfig['log'] {
  if (!onQuery) return undefined;
  return (e) => {
    if (e.level === 'query') onQuery(e.query.sql, e.query.parameters);
  };
}
