// Request and response examples of every operation, keyed by operation name: the query parameters
// (besides userId, orgId and action; canonical names, V2.0 spellings are applied by document.ts), the
// body, and the success envelope's `data`. A new operation needs an entry (the OpenAPI test names it);
// the test validates each request against the operation's schema and each `data` against responses.ts.
import type { VersionSpec } from '../operation.js';
import {
  FLOW_ID,
  INSTANCE_ID,
  REPORTS_DIR_ID,
  ROOT_DIR_ID,
  SAMPLE_DIR_TREE,
  SAMPLE_EXPORT,
  SAMPLE_LOG,
  SAMPLE_TASK_INSTANCE,
  TASK_IDS,
  TASK_INSTANCE_ID,
  TRIGGER_MS,
  sampleFlow,
  sampleInstance,
} from './samples.js';

export interface OperationExample {
  query?: Record<string, string | number>;
  body?: unknown;
  data: unknown;
}

export type ExampleOf = (v: VersionSpec) => OperationExample;

/** The identity the examples call as: what a fresh `npm start` bootstraps, so "Try it out" works. */
export const EXAMPLE_IDENTITY = { userId: 'u-admin', orgId: 'o-default' } as const;

const flowIdQuery = { flowId: FLOW_ID };
const VERSION_1 = { version: 1, hash: '0d9f3c2b1a4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8', createdBy: 'admin', createTime: '2026-11-20 09:12:40', createTimeMs: 1795180360000 };
const VERSION_2 = { version: 2, hash: '5f0c4e1ad0a3b0c9a2cbd7c6f3e2a1908e7d6c5b4a39281706f5e4d3c2b1a098', createdBy: 'admin', createTime: '2026-11-24 16:03:11', createTimeMs: 1795536191000 };
const newInstance = { flowInstanceId: INSTANCE_ID };
const extras = (v: VersionSpec) => v.flowExtras === true;

const IMPORT_BODY = {
  flowName: 'daily_sales_etl',
  desc: 'Daily sales extract, clean and load',
  dirId: ROOT_DIR_ID,
  flowJson: {
    name: 'daily_sales_etl',
    cycle: 'D',
    cron: '0 30 2 * * ? *',
    type: 1,
    owners: 'admin',
    // Users named here must exist: a fresh service has only admin (Try it out works as it is).
    visitors: '',
    startTime: '2026-11-21',
    parameters: [
      { key: 'region', value: 'eu-west' },
      { key: 'out_dir', value: '/data/sales/${cal_dt8}' },
    ],
    tasks: [
      { name: 'extract', type: 'SHELL', cmd: 'mkdir -p ${out_dir} && echo "extracting ${region} for ${cal_dt}"', timeout: 600, retryLimit: 2, retryInterval: 30 },
      { name: 'clean', type: 'SHELL', cmd: 'python3 /opt/etl/clean.py --region ${region}', timeout: 600, retryLimit: 2, retryInterval: 30 },
      { name: 'load', type: 'SHELL', cmd: 'echo "loading ${out_dir} for instance ${instance_id}"', parameters: [{ key: 'target', value: 'warehouse' }] },
    ],
    relations: [
      { sourceTaskName: 'extract', targetTaskName: 'clean', rerun: true },
      { sourceTaskName: 'clean', targetTaskName: 'load', rerun: true },
    ],
    flowLinks: [],
    taskLinks: [],
    linkRelations: [],
  },
};

const SAVE_BODY = {
  id: FLOW_ID,
  type: 1,
  name: 'daily_sales_etl',
  freq: '0 0 3 * * ? *',
  cycle: 'D',
  alertMode: 0,
  doAs: '',
  owners: 'admin',
  visitors: '',
  startTime: '2026-11-21',
  active: 1,
  parameters: '[{"key":"region","value":"eu-west"}]',
  desc: 'Daily sales extract, clean and load (runs at 03:00)',
  queue: '',
  tasks: Object.entries(TASK_IDS).map(([name, id], i) => ({ taskName: name, taskId: String(id), nodeId: `t_${id}`, x: 120 + 220 * i, y: 80 })),
  flows: [],
  relations: [
    { source: `t_${TASK_IDS.extract}`, target: `t_${TASK_IDS.clean}`, cycleGap: 'D0', rerun: true },
    { source: `t_${TASK_IDS.clean}`, target: `t_${TASK_IDS.load}`, cycleGap: 'D0', rerun: true },
  ],
};

const page = (v: VersionSpec, field: string) => ({ pageNo: v.pageBase, pageSize: 10, sorters: [{ field, order: 'DESC' }] });

export const EXAMPLES: Record<string, ExampleOf> = {
  // /flows
  getFlow: (v) => ({ query: flowIdQuery, data: sampleFlow(extras(v)) }),
  loadFlowForEdit: (v) => ({ query: flowIdQuery, data: sampleFlow(extras(v)) }),
  exportFlow: () => ({ query: flowIdQuery, data: SAMPLE_EXPORT }),
  importFlow: () => ({ body: IMPORT_BODY, data: { flowId: FLOW_ID } }),
  saveFlow: () => ({ body: SAVE_BODY, data: { flowId: FLOW_ID } }),
  deleteFlow: () => ({ query: flowIdQuery, data: '' }),
  enableFlow: () => ({ body: { flowId: FLOW_ID }, data: '' }),
  disableFlow: () => ({ body: { flowId: FLOW_ID }, data: '' }),
  triggerFlow: () => ({ body: { flowId: FLOW_ID, triggerTime: TRIGGER_MS }, data: newInstance }),
  updateAndTriggerFlow: () => ({
    body: { flowId: FLOW_ID, triggerTime: TRIGGER_MS, parameters: [{ key: 'region', value: 'ap-east' }] },
    data: newInstance,
  }),
  triggerFlowFromTask: () => ({
    body: { flowId: FLOW_ID, taskId: TASK_IDS.clean, triggerTime: TRIGGER_MS },
    data: newInstance,
  }),
  backfillFlow: () => ({
    body: { flowId: FLOW_ID, fromTime: TRIGGER_MS - 2 * 86_400_000, toTime: TRIGGER_MS },
    data: {
      flowInstanceIds: [`${FLOW_ID}-20261123143000`, `${FLOW_ID}-20261125143000`],
      skipped: [`${FLOW_ID}-20261124143000`],
    },
  }),
  getMyFlow: () => ({
    query: { expression: 'sales' },
    data: [
      { flowId: String(FLOW_ID), editable: true, flowName: 'daily_sales_etl', cycle: 'D' },
      { flowId: '2902', editable: false, flowName: 'weekly_sales_report', cycle: 'W' },
    ],
  }),
  searchFlow: (v) => ({
    body: { expression: 'sales', pagination: page(v, 'updateTime') },
    data: [
      { flowId: FLOW_ID, flowName: 'daily_sales_etl' },
      { flowId: 2902, flowName: 'weekly_sales_report' },
    ],
  }),
  listFlowVersions: () => ({
    query: flowIdQuery,
    data: { flowId: FLOW_ID, currentVersion: 2, versions: [VERSION_2, VERSION_1] },
  }),
  getFlowVersion: () => ({
    query: { flowId: FLOW_ID, version: 2 },
    data: { flowId: FLOW_ID, ...VERSION_2, flow: { id: FLOW_ID, name: 'daily_sales_etl', freq: '0 30 14 * * ? *', cycle: 'D' }, tasks: [{ id: TASK_IDS.extract, name: 'extract', type: 'SHELL', cmd: 'sh extract.sh' }] },
  }),
  compareFlowVersions: () => ({
    query: { flowId: FLOW_ID, from: 1, to: 2 },
    data: {
      flowId: FLOW_ID,
      from: VERSION_1,
      to: VERSION_2,
      same: false,
      flow: [{ field: 'freq', from: '0 0 14 * * ? *', to: '0 30 14 * * ? *' }],
      tasks: { added: [], removed: [], changed: [{ id: TASK_IDS.extract, name: 'extract', changes: [{ field: 'timeoutSec', from: 0, to: 600 }] }] },
      relations: { added: [], removed: [], changed: [] },
    },
  }),
  // /flowInstances
  getFlowInstance: (v) => ({ query: { flowInstId: INSTANCE_ID }, data: sampleInstance(extras(v)) }),
  cancelFlowInstance: () => ({ body: { flowInstId: INSTANCE_ID }, data: '' }),
  rerunFlowInstance: () => ({
    body: { flowInstId: INSTANCE_ID, mode: 'failed' },
    data: { flowInstanceId: INSTANCE_ID, mode: 'failed', resetTaskInstIds: [`${TASK_IDS.clean}-${INSTANCE_ID.slice(INSTANCE_ID.indexOf('-') + 1)}`] },
  }),
  searchFlowInstances: (v) => ({
    body: {
      type: 1,
      expression: 'daily_sales',
      owner: '',
      fromTriggerTime: 1793491200000,
      toTriggerTime: 1796083199999,
      status: '1,2',
      pagination: page(v, 'triggerTime'),
    },
    data: { flowInsts: [sampleInstance(extras(v))], count: 1 },
  }),
  // /taskInstances
  getTaskInstance: () => ({ query: { taskInstId: TASK_INSTANCE_ID }, data: SAMPLE_TASK_INSTANCE }),
  getTaskInstanceLog: () => ({ query: { taskInstId: TASK_INSTANCE_ID, maxLength: '65536' }, data: { log: SAMPLE_LOG } }),
  streamTaskInstanceLog: () => ({
    query: { taskInstId: TASK_INSTANCE_ID, tailChars: '65536' },
    data:
      ': stream open\n\n' +
      'event: status\ndata: {"status":"RUNNING","runNum":1}\n\n' +
      'event: log\nid: 1.3\ndata: {"text":"extracting 2026-11-25 ...\\n","runNum":1,"truncated":false}\n\n' +
      'event: end\ndata: {"status":"SUCCESS"}\n\n',
  }),
  // /directories
  listWorkFlowDirs: () => ({ data: SAMPLE_DIR_TREE }),
  createDirectory: () => ({ body: { parentId: ROOT_DIR_ID, dirName: 'reports' }, data: { dirId: REPORTS_DIR_ID } }),
  // /time
  getCurrentTime: () => ({ data: 1795617065123 }),
  getTimeZone: () => ({ data: { timezone: 'GMT+0' } }),
};
