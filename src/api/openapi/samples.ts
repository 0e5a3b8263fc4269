// Sample response structs for the OpenAPI examples: one small, consistent world (service zone UTC,
// user `admin` of org `o-default`, workflow 2841 `daily_sales_etl` = extract -> clean -> load, its
// instance 2841-20261125143000). Shaped like src/api/render/*.ts output; the OpenAPI test validates
// each against the documented response schema, so a renderer change that breaks them fails there.

export const FLOW_ID = 2841;
export const ROOT_DIR_ID = '5f0c2a7e9b8d4c1fa3e6d2b7c9a04f18';
export const REPORTS_DIR_ID = 'a41d7c03e95b4f6e8d2c1b0a9f8e7d6c';
export const TRIGGER_MS = 1795617000000; // 2026-11-25 14:30:00 UTC
export const INSTANCE_ID = '2841-20261125143000';
export const TASK_IDS = { extract: 108580, clean: 108581, load: 108582 } as const;
export const TASK_INSTANCE_ID = `${TASK_IDS.extract}-20261125143000`;

const PARAMS = [
  { key: 'region', value: 'eu-west' },
  { key: 'out_dir', value: '/data/sales/${cal_dt8}' },
];

const nodes = Object.entries(TASK_IDS).map(([name, id], i) => ({ taskName: name, taskId: String(id), nodeId: `t_${id}`, x: 120 + 220 * i, y: 80 }));
const relations = [
  { source: `t_${TASK_IDS.extract}`, target: `t_${TASK_IDS.clean}`, cycleGap: 'D0', rerun: true },
  { source: `t_${TASK_IDS.clean}`, target: `t_${TASK_IDS.load}`, cycleGap: 'D0', rerun: true },
];

/** V2.0's extra flow fields (VersionSpec.flowExtras). */
const EXTRAS = { alertTo: '', appId: '' };

const FLOW_SETTINGS = { creator: 'admin', freq: '0 30 2 * * ? *', alertMode: 0, owners: 'admin', cycle: 'D', doAs: '' };

export const SAMPLE_GRAPH = {
  ...FLOW_SETTINGS,
  type: 1,
  visitors: 'bob',
  startTime: '2026-11-21',
  flows: [],
  name: 'daily_sales_etl',
  syncType: 0,
  relations,
  parameters: JSON.stringify(PARAMS),
  tasks: nodes,
  queue: '',
  desc: 'Daily sales extract, clean and load',
  active: 1,
};

export function sampleFlow(extras: boolean): Record<string, unknown> {
  return {
    ...(extras ? EXTRAS : {}),
    flowId: FLOW_ID,
    flowName: 'daily_sales_etl',
    active: 1,
    creator: 'admin',
    createTime: '2026-11-20 09:12:45.0',
    createTimeMs: 1795165965000,
    updateUser: 'admin',
    updateTime: '2026-11-24 16:03:11.0',
    updateTimeMs: 1795536191000,
    freq: '0 30 2 * * ? *',
    cycle: 'D',
    parameters: JSON.stringify(PARAMS),
    owner: 'admin',
    visitor: 'bob',
    doAs: '',
    alertMode: 0,
    graph: JSON.stringify(SAMPLE_GRAPH),
    entry: 1,
    type: 1,
    syncType: 0,
    desc: 'Daily sales extract, clean and load',
    startTime: '2026-11-21',
    virtual: false,
    locked: false,
    hasEditPri: true,
    hasReadPri: true,
    isUserLocked: false,
    queue: '',
    version: 7,
  };
}

const STATUS_OF = { extract: 'SUCCESS', clean: 'RUNNING', load: 'INIT' } as const;

export const sampleInstance = (extras: boolean) => ({
  instanceId: INSTANCE_ID,
  flowId: FLOW_ID,
  flowName: 'daily_sales_etl',
  freq: '0 30 2 * * ? *',
  cycle: 'D',
  parameters: JSON.stringify(PARAMS),
  overrides: '[]',
  doAs: '',
  graph: JSON.stringify({
    ...(extras ? EXTRAS : {}),
    ...FLOW_SETTINGS,
    flows: [],
    name: 'daily_sales_etl',
    instId: INSTANCE_ID,
    id: FLOW_ID,
    relations,
    parameters: PARAMS,
    tasks: nodes.map((n) => ({
      taskName: n.taskName,
      taskInstId: `${n.taskId}-20261125143000`,
      x: n.x,
      y: n.y,
      taskId: n.taskId,
      nodeId: n.nodeId,
      status: STATUS_OF[n.taskName as keyof typeof STATUS_OF],
    })),
  }),
  status: 2,
  statusDesc: 'RUNNING',
  triggerTime: '2026-11-25 14:30:00',
  triggerTimeMs: TRIGGER_MS,
  startTime: '2026-11-25 14:30:02',
  startTimeMs: 1795617002000,
  endTime: null,
  endTimeMs: null,
  timestamp: '2026-11-25 14:29:58.0',
  timestampMs: 1795616998000,
  virtual: false,
  owner: 'admin',
  alertMode: 0,
  calDt: '2026-11-24',
  hasEditPri: true,
  hasReadPri: true,
  isCancelled: false,
  flowVersion: 3,
  flowVersionHash: '5f0c4e1ad0a3b0c9a2cbd7c6f3e2a1908e7d6c5b4a39281706f5e4d3c2b1a098',
});

export const SAMPLE_TASK_INSTANCE = {
  instanceId: TASK_INSTANCE_ID,
  taskId: TASK_IDS.extract,
  taskName: 'extract',
  cycle: 'D',
  status: 1,
  stsDesc: 'SUCCESS',
  runNum: 1,
  type: 3,
  syncType: 0,
  freq: '0 30 2 * * ? *',
  ifPre: 1,
  recallNum: 0,
  recallLimit: 2,
  recallInterval: 30,
  timeout: 600,
  isTimeout: false,
  triggerTime: '2026-11-25 14:30:00',
  triggerTimeMs: TRIGGER_MS,
  startTime: '2026-11-25 14:30:02',
  startTimeMs: 1795617002000,
  endTime: '2026-11-25 14:30:09',
  endTimeMs: 1795617009000,
  timeStamp: 'Wed Nov 25 14:29:58 UTC 2026',
  timeStampMs: 1795616998000,
  flowInstId: INSTANCE_ID,
  doAs: '',
  alert: false,
  runMode: '{}',
  cmd: 'mkdir -p ${out_dir} && echo "extracting ${region} for ${cal_dt}"',
  hasResourceBefore: false,
  resourceName: '',
  fileName: '',
  resourceVersion: '',
  exitCode: 0,
  transitions: [
    { seq: 2, kind: 'task', id: TASK_INSTANCE_ID, from: 'INIT', to: 'READY', at: '2026-11-25 14:30:02', atMs: 1795617002000, runNum: 0, reason: null, engineId: '3f2b8c1e-5d4a-4e7b-9c1d-2a6f0e8b7d35' },
    { seq: 3, kind: 'task', id: TASK_INSTANCE_ID, from: 'READY', to: 'RUNNING', at: '2026-11-25 14:30:02', atMs: 1795617002000, runNum: 1, reason: null, engineId: '3f2b8c1e-5d4a-4e7b-9c1d-2a6f0e8b7d35' },
    { seq: 6, kind: 'task', id: TASK_INSTANCE_ID, from: 'RUNNING', to: 'SUCCESS', at: '2026-11-25 14:30:09', atMs: 1795617009000, runNum: 1, reason: null, engineId: '3f2b8c1e-5d4a-4e7b-9c1d-2a6f0e8b7d35' },
  ],
};

const exportTask = (name: string, cmd: string, extra: Record<string, unknown> = {}) => ({
  name,
  resource: '',
  type: 'SHELL',
  syncType: 0,
  cmd,
  submitter: '',
  filePackage: '',
  cron: '',
  priorityLevel: 0,
  timeout: 600,
  retryLimit: 2,
  retryInterval: 30,
  successCode: '0',
  asLink: false,
  runMode: '{}',
  waitCode: '',
  parameters: '[]',
  x: 0,
  y: 0,
  ...extra,
});

export const SAMPLE_EXPORT = {
  name: 'daily_sales_etl',
  cycle: 'D',
  cron: '0 30 2 * * ? *',
  parameters: JSON.stringify(PARAMS),
  alertMode: 0,
  submitter: '',
  owners: 'admin',
  visitors: 'bob',
  type: 1,
  syncType: 0,
  desc: 'Daily sales extract, clean and load',
  startTime: '2026-11-21',
  tasks: [
    exportTask('extract', SAMPLE_TASK_INSTANCE.cmd, { x: 120, y: 80 }),
    exportTask('clean', 'python3 /opt/etl/clean.py --region ${region}', { x: 340, y: 80 }),
    exportTask('load', 'echo "loading ${out_dir} for instance ${instance_id}"', { x: 560, y: 80, parameters: '[{"key":"target","value":"warehouse"}]' }),
  ],
  flowLinks: [],
  taskLinks: [],
  relations: [
    { sourceTaskName: 'extract', targetTaskName: 'clean', rerun: true, cycleGap: 'D0' },
    { sourceTaskName: 'clean', targetTaskName: 'load', rerun: true, cycleGap: 'D0' },
  ],
  linkRelations: [],
  active: 1,
  queue: '',
  alertTo: '',
  appId: '',
};

export const SAMPLE_DIR_TREE = [
  {
    title: 'Workflow',
    type: 1,
    key: ROOT_DIR_ID,
    isDirectory: true,
    children: [
      { title: 'reports', type: 1, key: REPORTS_DIR_ID, isDirectory: true, children: [] },
      { title: 'daily_sales_etl', type: 1, key: FLOW_ID, isDirectory: false, editable: true },
    ],
  },
];

export const SAMPLE_LOG = [
  '='.repeat(60),
  'run num:\t1',
  `instance:\t${TASK_INSTANCE_ID}`,
  'cmdline:\tmkdir -p /data/sales/20261124 && echo "extracting eu-west for 2026-11-24"',
  'submitter:\tadmin',
  'current time:\tWed Nov 25 14:30:02 UTC 2026',
  '='.repeat(60),
  'extracting eu-west for 2026-11-24',
  '',
].join('\n');
