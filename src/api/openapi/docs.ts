// What each operation is for, in words: summary, description, who may call it (contract §2), the
// reference section, and the errors particular to it (the common ones follow from `access`, see
// document.ts). Keyed by operation name; a new operation needs an entry (the OpenAPI test names it).
import type { ErrorKey } from '../errors.js';

export interface OperationError {
  key: ErrorKey;
  /** When it happens. */
  when: string;
  /** The `{detail}` of a realistic message (used for the error example). */
  detail: string;
}

export interface OperationDoc {
  summary: string;
  description: string;
  /** Who may call it (contract §2). */
  who: string;
  /** Section of the reference (enos-api-reference.md), e.g. "6.8". */
  ref: string;
  errors?: OperationError[];
  /** What each query parameter means (the schema's own description says what it must be). */
  params?: Record<string, string>;
}

const ORG_READ = 'Any member of the workflow\'s organization: owners, visitors and every other member. A workflow of another organization answers 62102 "not found", as one that does not exist.';
const OWNER_WRITE = 'Owners of the workflow only (62103 otherwise). A locked account gets 62105; while another user holds the workflow\'s edit lock, 62106.';

const FLOW_PARAM = { flowId: 'the workflow' };

const notOwner: OperationError = { key: 'noPrivilege', when: 'the caller is not an owner of the workflow', detail: 'bob is not an owner of workflow 2841' };
const editLocked: OperationError = {
  key: 'editLocked',
  when: 'another user holds the edit lock (Load Flow For Edit)',
  detail: 'Workflow 2841 is locked for editing by alice until 2026-11-25T15:00:00.000Z (epoch ms 1795618800000)',
};
const flowChanged: OperationError = {
  key: 'flowChanged',
  when: 'another Save, Enable or Disable wrote the workflow after this Save read it (nothing of this Save is written)',
  detail: 'workflow 2841 was changed by alice since it was read; reload it and save again',
};
const flowNotFound: OperationError = { key: 'notFound', when: 'no such workflow in the caller\'s organization', detail: 'Workflow 2841 not found' };
const instanceNotFound: OperationError = { key: 'notFound', when: 'no such flow instance in the caller\'s organization', detail: 'Flow instance 2841-20261125143000 not found' };
const taskInstNotFound: OperationError = { key: 'notFound', when: 'no such task instance', detail: 'Task instance 108580-20261125143000 not found' };
const triggerErrors: OperationError[] = [
  { key: 'noTask', when: 'the workflow has no task', detail: 'workflow 2841' },
  { key: 'duplicateInstance', when: 'an instance of this workflow already exists for the same minute', detail: 'instance 2841-20261125143000 exists' },
  flowNotFound,
  notOwner,
  editLocked,
];

export const OPERATION_DOCS: Record<string, OperationDoc> = {
  getFlow: {
    summary: 'Get Flow',
    ref: '6.8',
    who: ORG_READ,
    params: FLOW_PARAM,
    errors: [flowNotFound],
    description: 'Returns a workflow: its settings, and its DAG as the JSON text `graph`.',
  },
  exportFlow: {
    params: FLOW_PARAM,
    summary: 'Export Flow',
    ref: '6.6',
    who: ORG_READ,
    errors: [flowNotFound],
    description: 'Returns the portable definition of a workflow (tasks referred to by name), which Import Flow accepts as `flowJson`: Export -> Import is a lossless round trip.',
  },
  importFlow: {
    summary: 'Import Flow',
    ref: '6.14',
    who: 'Any member of the organization whose account is not locked (62105); the importer becomes an owner. Owners and visitors named in `flowJson` must be users of the organization.',
    errors: [{ key: 'invalidParameter', when: 'the definition is invalid (cycle, unknown task type, bad cron, ...): the message names the first fault', detail: 'Directory does not exist: 0123456789abcdef0123456789abcdef' }],
    description:
      'Creates a workflow with its tasks in a directory, from an export Flow Struct (`flowJson`, an object or its JSON text). A given `flowId` that is taken is replaced by a new id (no error). Answers the new `flowId`.',
  },
  saveFlow: {
    summary: 'Save Flow',
    ref: '6.18',
    who: OWNER_WRITE,
    errors: [notOwner, editLocked, flowChanged, flowNotFound],
    description:
      'Saves a workflow\'s settings and graph. Optional fields that are absent keep their stored values. Extension: a `tasks[]` entry may carry task definition fields, and an entry without `taskId` creates a task. A periodic flow stays periodic and a manual one manual. Releases the caller\'s edit lock. Answers the same `flowId`.',
  },
  deleteFlow: {
    params: FLOW_PARAM,
    summary: 'Delete Flow',
    ref: '6.3',
    who: OWNER_WRITE,
    errors: [
      { key: 'referenced', when: 'another workflow references this one', detail: 'workflow 2841 is referenced by 2902 (nightly_report)' },
      { key: 'invalidParameter', when: 'an instance of it is running', detail: 'Invalid parameter: workflow 2841 cannot be deleted now: its instance 2841-20261125143000 is RUNNING (cancel it or wait for it to end)' },
      notOwner,
      editLocked,
    ],
    description: 'Deletes a workflow with its tasks, instances and logs. It really is a GET (as in the reference).',
  },
  enableFlow: { summary: 'Enable Flow', ref: '6.5', who: OWNER_WRITE, errors: [notOwner, editLocked, flowNotFound], description: 'Starts the scheduling of a workflow (`active` 1): a periodic workflow fires on its cron again.' },
  disableFlow: { summary: 'Disable Flow', ref: '6.4', who: OWNER_WRITE, errors: [notOwner, editLocked, flowNotFound], description: 'Stops the scheduling of a workflow (`active` 0): a periodic workflow creates no more instances.' },
  getMyFlow: {
    params: { expression: 'text contained in the workflow id or name (case-insensitive); every workflow of the caller when absent' },
    summary: 'Get My Flow',
    ref: '6.10',
    who: 'Any member of the organization; the list holds the workflows the caller created, owns or visits.',
    description: 'Lists the caller\'s workflows whose id or name contains `expression` (case-insensitive; all when absent). Unpaged. V2.0 names the query parameter `searchValue`.',
  },
  searchFlow: {
    summary: 'Search Flow',
    ref: '6.19',
    who: 'Any member of the organization (workflows of every user of the organization are found).',
    errors: [{ key: 'invalidParameter', when: 'bad pagination or a sorter field not allowed', detail: 'The sorters field parameter is invalid: pagination.sorters[0] has field "name"; allowed fields: createTime, updateTime, startTime' }],
    description: 'One page of the organization\'s workflows whose id or name contains `expression`. Sort fields: createTime, updateTime, startTime. Pages start at 1 in V2.1 and 0 in V2.0; pageSize 1..1000, default 10.',
  },
  loadFlowForEdit: {
    params: FLOW_PARAM,
    summary: 'Load Flow For Edit',
    ref: '6.17',
    who: 'Owners of the workflow only (62103 otherwise): it takes the edit lock.',
    errors: [notOwner, editLocked, flowNotFound],
    description: 'Returns the workflow (the Flow struct) and takes its edit lock for the caller (30 minutes by default; renewed by calling again, released by Save Flow). While the caller holds it, other users\' writes to the workflow answer 62106.',
  },
  triggerFlow: {
    summary: 'Trigger Flow',
    ref: '6.20',
    who: OWNER_WRITE,
    errors: triggerErrors,
    description:
      'Creates one instance of the workflow and answers its id at once; nothing runs inside the request. A `triggerTime` (epoch ms) in the past or now is due at once (and still feeds the time parameters: back-filling); a future one waits (WAIT). Instances of one workflow run one at a time.',
  },
  updateAndTriggerFlow: {
    summary: 'Update And Trigger Flow',
    ref: '6.22',
    who: OWNER_WRITE,
    errors: triggerErrors,
    description: 'Like Trigger Flow, with `parameters` overriding the workflow\'s global parameters for this instance only; keys not given keep their stored values and the stored workflow does not change.',
  },
  triggerFlowFromTask: {
    summary: 'Trigger Flow From Task',
    ref: '6.21',
    who: OWNER_WRITE,
    errors: [...triggerErrors, { key: 'invalidParameter', when: 'no such task in the workflow', detail: 'Invalid parameter: taskId 999 is not a task of workflow 2841' }],
    description: 'Like Trigger Flow, but runs only the given task and the nodes reachable from it through relations whose `rerun` is true; every other node is SKIP. V2.1 only.',
  },
  backfillFlow: {
    summary: 'Backfill Flow (extension)',
    ref: 'extension',
    who: OWNER_WRITE,
    errors: [
      ...triggerErrors,
      { key: 'invalidParameter', when: 'more than 1000 fires in the range', detail: 'Invalid parameter: the range holds 2160 fires of "0 0 * * * ? *"; a backfill makes at most 1000 instances per call: split the range' },
      { key: 'invalidParameter', when: 'a manual workflow without cron', detail: 'Missing parameter: cron (workflow 2841 is not periodic: give the 7-field cron whose fires to backfill)' },
    ],
    description:
      'Makes one instance per fire of the workflow\'s cron (a periodic workflow) or of the given 7-field `cron` (a manual workflow, where it is required) in [fromTime, toTime] (epoch ms, inclusive), the first fire of each minute, at most 1000 per call, all in one transaction (a failure makes none). Minutes that already have an instance are skipped and listed in `skipped`. Each instance is a trigger at its fire time (time parameters follow it; `parameters` override the global ones for these instances); they run one at a time in trigger-time order. Accepts an Idempotency-Key header. V2.1 only.',
  },
  listFlowVersions: {
    params: FLOW_PARAM,
    summary: 'List Flow Versions (extension)',
    ref: 'extension',
    who: ORG_READ,
    errors: [flowNotFound],
    description:
      'The versions of a workflow, newest first: every import and every Save that changed its content (settings, graph, tasks; not the edit lock, Enable/Disable or a Save that changed nothing) made one, numbered 1, 2, 3. `currentVersion` is the one the workflow has now; each flow instance names the version it runs (`flowVersion`). V2.1 only.',
  },
  getFlowVersion: {
    params: { ...FLOW_PARAM, version: 'the version number (1, 2, ...)' },
    summary: 'Get Flow Version (extension)',
    ref: 'extension',
    who: ORG_READ,
    errors: [flowNotFound, { key: 'invalidParameter', when: 'the workflow has no such version', detail: 'Invalid parameter: workflow 2841 has no version 9 (version)' }],
    description: 'One version of a workflow as its instances ran it: the workflow\'s definition and its tasks. V2.1 only.',
  },
  compareFlowVersions: {
    params: { ...FLOW_PARAM, from: 'the older version number', to: 'the newer version number' },
    summary: 'Compare Flow Versions (extension)',
    ref: 'extension',
    who: ORG_READ,
    errors: [flowNotFound, { key: 'invalidParameter', when: 'the workflow has no such version', detail: 'Invalid parameter: workflow 2841 has no version 9 (to)' }],
    description:
      'What changed from version `from` to version `to`: the workflow fields that differ (with both values), tasks added, removed and changed (field by field), relations added, removed and changed; `same` is true when the contents are equal. V2.1 only.',
  },
  getFlowInstance: {
    params: { flowInstId: 'the flow instance, <flowId>-<yyyyMMddHHmm>00' },
    summary: 'Get Flow Instance',
    ref: '6.9',
    who: 'Any member of the instance\'s organization.',
    errors: [instanceNotFound],
    description: 'Returns a flow instance with its graph (the JSON text `graph`, every task node with its task instance id and status).',
  },
  cancelFlowInstance: {
    summary: 'Cancel Flow Instance',
    ref: '6.1',
    who: 'Owners of the instance\'s workflow only (62103 otherwise). A locked account gets 62105; another user\'s edit lock on the workflow, 62106.',
    errors: [{ key: 'invalidParameter', when: 'the instance has ended', detail: 'Invalid parameter: flow instance 2841-20261125143000 is SUCCESS; only WAIT or RUNNING instances can be cancelled' }, instanceNotFound, notOwner],
    description: 'Cancels a waiting or running instance: running task processes get SIGTERM (their whole process group), SIGKILL after a grace period; tasks not started become CANCEL, and so does the instance.',
  },
  rerunFlowInstance: {
    summary: 'Rerun Flow Instance (extension)',
    ref: 'extension',
    who: 'Owners of the instance\'s workflow only (62103 otherwise). A locked account gets 62105; another user\'s edit lock on the workflow, 62106.',
    errors: [
      { key: 'invalidParameter', when: 'the instance has not ended, or is SUCCESS with mode "failed"', detail: 'Invalid parameter: flow instance 2841-20261125143000 is RUNNING; only an ended instance (FAIL, CANCEL or INTERNAL_ERROR (a SUCCESS instance only with mode "all")) can be rerun' },
      instanceNotFound,
      notOwner,
    ],
    description:
      'Runs an ended instance again under the same id, trigger time and parameters: it goes back to WAIT and queues behind what is already due (one instance of a workflow at a time). Mode "failed" (default) resets the task instances that did not succeed (FAIL, TIMEOUT, CANCEL, SKIP), so the run resumes at the failure point; "all" resets every task instance of its run set (a SUCCESS instance too). Attempts keep counting (runNum goes on) and the logs of earlier attempts stay; the history names who reran it. Accepts an Idempotency-Key header. V2.1 only.',
  },
  searchFlowInstances: {
    summary: 'List Flow Instances',
    ref: '6.15',
    who: 'Any member of the organization.',
    errors: [{ key: 'invalidParameter', when: 'bad filter, pagination or sorter', detail: 'The sorters field parameter is invalid: pagination.sorters[0] has field "name"; allowed fields: createTime, updateTime, startTime, triggerTime, endTime' }],
    description:
      'One page of the organization\'s flow instances of a scheduling `type` whose trigger time lies in [fromTriggerTime, toTriggerTime] (epoch ms, inclusive), filtered by `status` ("1,2" or a number), `owner` ("" any) and `expression` (contained in the instance id or workflow name); `count` is the total matching. Pages start at 1 in V2.1 and 0 in V2.0.',
  },
  getTaskInstance: {
    params: { taskInstId: 'the task instance, <taskId>-<14 digits of its flow instance>' },
    summary: 'Get Task Instance',
    ref: '6.11',
    who: 'Any member of the task instance\'s organization.',
    errors: [taskInstNotFound],
    description: 'Returns one task instance (`<taskId>-<14 digits of its flow instance>`): status, attempts, times, exit code. V2.1 only.',
  },
  getTaskInstanceLog: {
    params: { taskInstId: 'the task instance, <taskId>-<14 digits of its flow instance>', maxLength: 'how many characters to return, from the end of the log (default 1048576)' },
    summary: 'Get Task Instance Log',
    ref: '6.12',
    who: 'Any member of the task instance\'s organization.',
    errors: [{ key: 'invalidParameter', when: 'no such task instance, or it has not started yet (no log)', detail: 'Invalid taskInstId or it has no log: 108580-20261125143000' }],
    description: 'Returns the last `maxLength` characters (default 1,048,576) of a task instance\'s log: per attempt, a banner (run number, instance, command line after substitution, submitter, time) and the output. Readable while the task runs.',
  },
  streamTaskInstanceLog: {
    params: {
      taskInstId: 'the task instance, <taskId>-<14 digits of its flow instance>',
      after: 'resume after this log event id (`runNum.seq`)',
      tailChars: 'without `after`: how much of the newest log to send first',
    },
    summary: 'Stream Task Instance Log (extension)',
    ref: '6.12',
    who: 'Any member of the task instance\'s organization.',
    errors: [
      { key: 'notFound', when: 'no such task instance in the caller\'s organization', detail: 'Task instance 108580-20261125143000 not found' },
      { key: 'invalidParameter', when: '`after` is not a `runNum.seq` cursor or `tailChars` not an integer', detail: 'Invalid parameter: after must be a log event id "runNum.seq" (e.g. "1.4"), got "x"' },
    ],
    description:
      'Extension (V2.1 only): follows a task instance\'s log live as server-sent events (`text/event-stream`): its status, then the newest `tailChars` of its log (or everything after the `after` cursor), then every chunk as it is written, then `end` once the task instance is terminal. Any API process can serve it (the store is read, not the engine). Errors found before the first event are answered as the usual envelope.',
  },
  listWorkFlowDirs: {
    summary: 'List Workflow Directories',
    ref: '6.16',
    who: 'Any member of the organization.',
    description: 'Returns the organization\'s workflow directory tree: the root `Workflow` directory, its sub-directories, and workflows as leaves (`key` = flowId, `editable` for the caller).',
  },
  createDirectory: {
    summary: 'Create Directory',
    ref: '6.2',
    who: 'Any member of the organization whose account is not locked (62105).',
    errors: [
      { key: 'invalidParameter', when: 'empty name, unknown parent, or a sibling of the same name', detail: 'A directory of the same name already exists: reports' },
    ],
    description: 'Creates a directory under `parentId` and answers its id (32 lowercase hex characters).',
  },
  getCurrentTime: { summary: 'Get Current Time', ref: '6.7', who: 'Anyone: no userId or orgId.', description: 'Answers the service clock in epoch milliseconds.' },
  getTimeZone: {
    summary: 'Get Timezone',
    ref: '6.13',
    who: 'Anyone: no userId or orgId.',
    description: 'Answers the service time zone as `GMT+N`, `GMT-N` or `GMT+H:MM` from its current offset. Instance ids, date strings and cron run in this zone.',
  },
};
