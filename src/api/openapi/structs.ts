// TypeBox schemas of the structs the API answers with (ref §5), as src/api/render/*.ts and
// src/service/flowDefinition.ts emit them: documentation only, never used to serialise a reply.
// Objects stay open (extra fields allowed) so that a client generated from them survives extensions.
// Version differences are parameters (`extras`: VersionSpec.flowExtras, V2.0's alertTo/appId, ref §10).
// The renderers return the `...Wire` types (Static of these structs): a renderer that sends a field its
// struct lacks, or lacks one it documents, does not compile (and test/api/wireTypes.ts pins the rest).
import { Type, type Static, type TInteger, type TNull, type TObject, type TSchema, type TString, type TUnion } from '@sinclair/typebox';

const S = (description: string) => Type.String({ description });
const I = (description: string) => Type.Integer({ description });
const B = (description: string) => Type.Boolean({ description });
const N = (description: string) => Type.Number({ description });
const Nullable = <T extends TSchema>(s: T, description: string) => Type.Union([s, Type.Null()], { description });

/** A JSON value carried as a string (ref §2.5): `contentSchema` says what the text holds. */
function JsonText(description: string, content: TSchema) {
  return Type.String({ description, contentMediaType: 'application/json', contentSchema: content });
}

/** The two properties of a stamped date (render/dates.ts stamped): `name`, and `${name}Ms`. */
type Stamped<K extends string, Nul extends boolean> = Nul extends true
  ? { [P in K]: TUnion<[TString, TNull]> } & { [P in `${K}Ms`]: TUnion<[TInteger, TNull]> }
  : { [P in K]: TString } & { [P in `${K}Ms`]: TInteger };

/** A response date in the service zone with its epoch-ms twin (contract §1 extension). */
function stamped<K extends string, Nul extends boolean>(name: K, what: string, pattern: string, nullable: Nul): Stamped<K, Nul>;
function stamped(name: string, what: string, pattern: string, nullable: boolean): Record<string, TSchema> {
  const text = `${what}, \`${pattern}\` in the service time zone`;
  const ms = `${what}, epoch milliseconds (extension: the twin of \`${name}\`)`;
  return nullable
    ? { [name]: Nullable(Type.String(), `${text}; null until it happens`), [`${name}Ms`]: Nullable(Type.Integer(), `${ms}; null until it happens`) }
    : { [name]: S(text), [`${name}Ms`]: I(ms) };
}

export const Param = Type.Object({ key: S('parameter name'), value: S('value; may use system variables such as ${cal_dt}') }, { title: 'Parameter' });

const Relation = Type.Object(
  {
    source: S('upstream node id (t_<taskId> or f_<flowId>)'),
    target: S('downstream node id'),
    cycleGap: S('schedule offset, {cycle}{offset}, e.g. D0'),
    rerun: B('whether the target runs in a Trigger Flow From Task run'),
  },
  { title: 'Relation' },
);

const FlowSimpleInfo = Type.Object(
  { flowId: S('referenced workflow id'), flowName: S('its name'), nodeId: S('node id, f_<flowId>'), isVirtual: B('virtual reference'), x: N('canvas x'), y: N('canvas y') },
  { title: 'FlowSimpleInfo' },
);

const TaskSimpleInfo = Type.Object(
  { taskName: S('task name'), taskId: S('task id (a numeric string)'), nodeId: S('node id, t_<taskId>'), x: N('canvas x'), y: N('canvas y') },
  { title: 'TaskSimpleInfo' },
);

/** ref §5.2, as renderGraph emits it. */
export const FlowGraph = Type.Object(
  {
    creator: S('creator user name'),
    freq: S('7-field Quartz cron ("" for manual flows)'),
    alertMode: I('0 none, 1 email, 2 SMS, 3 both'),
    type: I('0 manual, 1 periodic, 2 temporary'),
    owners: S('owners, ;-separated user names'),
    visitors: S('visitors, ;-separated user names'),
    startTime: S('effective date yyyy-MM-dd, or ""'),
    cycle: S('M, W, D, H or mi'),
    doAs: S('run-as account'),
    flows: Type.Array(FlowSimpleInfo),
    name: S('workflow name'),
    syncType: I('0 file sync, 1 data sync'),
    relations: Type.Array(Relation),
    parameters: JsonText('global parameters: JSON text of [{key,value}]', Type.Array(Param)),
    tasks: Type.Array(TaskSimpleInfo),
    queue: S('computing queue'),
    desc: S('description'),
    active: I('0 paused, 1 started'),
  },
  { title: 'FlowGraph' },
);

/** V2.0's extra fields of Flow and InstanceGraph (ref §10). */
const EXTRAS = {
  alertTo: S('V2.0 only (ref §10): alert receiver'),
  appId: S('V2.0 only (ref §10): application id, usually ""'),
};
type Extras = typeof EXTRAS;

/** ref §5.1: Get Flow and Load Flow For Edit (renderFlow). */
const FLOW = {
  flowId: I('workflow id'),
  flowName: S('workflow name'),
  active: I('scheduling status: 0 paused, 1 started'),
  creator: S('creator user name'),
  ...stamped('createTime', 'creation time', 'yyyy-MM-dd HH:mm:ss.S', false),
  updateUser: S('last user to update it'),
  ...stamped('updateTime', 'last update time', 'yyyy-MM-dd HH:mm:ss.S', false),
  freq: S('7-field Quartz cron ("" for manual flows)'),
  cycle: S('M, W, D, H or mi'),
  parameters: JsonText('global parameters: JSON text of [{key,value}]', Type.Array(Param)),
  owner: S('owners, ;-separated user names'),
  visitor: S('visitors, ;-separated user names'),
  doAs: S('run-as account'),
  alertMode: I('0 none, 1 email, 2 SMS, 3 both'),
  graph: JsonText('the DAG: JSON text of a FlowGraph', FlowGraph),
  entry: I('how it was created: 0 Portal, 1 API, 2 eos'),
  type: I('0 manual, 1 periodic, 2 temporary'),
  syncType: I('0 file sync, 1 data sync'),
  desc: S('description'),
  startTime: S('effective date yyyy-MM-dd, or ""'),
  virtual: B('virtual workflow'),
  locked: B('true while another user holds the edit lock (Load Flow For Edit)'),
  hasEditPri: B('the caller may edit it (is an owner)'),
  hasReadPri: B('the caller may read it'),
  isUserLocked: B('the caller\'s account is locked'),
  queue: S('computing queue'),
  version: I('extension: 1 at creation, +1 on every Save, Enable and Disable (not on taking the edit lock); Save writes only over the version it read'),
};

/** V2.1's Flow (extras false), or V2.0's (true: alertTo and appId after the rest). */
export function Flow(extras: false): TObject<typeof FLOW>;
export function Flow(extras: true): TObject<typeof FLOW & Extras>;
export function Flow(extras: boolean): TObject<typeof FLOW> | TObject<typeof FLOW & Extras>;
export function Flow(extras: boolean): TObject<typeof FLOW> | TObject<typeof FLOW & Extras> {
  return extras ? Type.Object({ ...FLOW, ...EXTRAS }, { title: 'Flow' }) : Type.Object({ ...FLOW }, { title: 'Flow' });
}

const InstanceGraphTask = Type.Object(
  {
    taskName: S('task name'),
    taskInstId: S('task instance id <taskId>-<14 digits>'),
    x: N('canvas x'),
    y: N('canvas y'),
    taskId: S('task id (a numeric string)'),
    nodeId: S('node id, t_<taskId>'),
    status: S('task instance status name (INIT, READY, RUNNING, RERUN, SUCCESS, FAIL, TIMEOUT, CANCEL, SKIP) or NONE'),
  },
  { title: 'TaskInstanceGraph' },
);

const InstanceGraphFlow = Type.Object(
  { ...FlowSimpleInfo.properties, flowInstId: S('instance of the referenced workflow ("" : references are not run)'), status: S('NONE') },
  { title: 'FlowInstanceGraph' },
);

/** ref §5.5 (instanceGraph in render/instance.ts). */
const INSTANCE_GRAPH = {
  creator: S('creator user name'),
  freq: S('cron'),
  alertMode: I('alert mode'),
  owners: S('owners'),
  cycle: S('cycle'),
  doAs: S('run-as account'),
  flows: Type.Array(InstanceGraphFlow),
  name: S('workflow name'),
  instId: S('flow instance id'),
  id: I('workflow id'),
  relations: Type.Array(Relation),
  parameters: Type.Array(Param, { description: 'the parameters the instance runs with (an array here, ref §5.5)' }),
  tasks: Type.Array(InstanceGraphTask),
};

/** V2.1's InstanceGraph (extras false), or V2.0's (true: alertTo and appId before the rest). */
export function InstanceGraph(extras: false): TObject<typeof INSTANCE_GRAPH>;
export function InstanceGraph(extras: true): TObject<Extras & typeof INSTANCE_GRAPH>;
export function InstanceGraph(extras: boolean): TObject<typeof INSTANCE_GRAPH> | TObject<Extras & typeof INSTANCE_GRAPH>;
export function InstanceGraph(extras: boolean): TObject<typeof INSTANCE_GRAPH> | TObject<Extras & typeof INSTANCE_GRAPH> {
  return extras
    ? Type.Object({ ...EXTRAS, ...INSTANCE_GRAPH }, { title: 'InstanceGraph' })
    : Type.Object({ ...INSTANCE_GRAPH }, { title: 'InstanceGraph' });
}

const FLOW_INSTANCE_STATUS = 'FlowInstanceStatus: 5 WAIT, 2 RUNNING, 1 SUCCESS, -1 FAIL, 8 CANCEL, 4 INTERNAL_ERROR';

/** Extension: one status change of an instance or a task instance, as the store recorded it. */
const Transition = Type.Object(
  {
    seq: I('the store-wide order of changes'),
    kind: Type.Union([Type.Literal('instance'), Type.Literal('task')], { description: 'a change of the flow instance or of one of its task instances' }),
    id: S('the flow instance id, or the task instance id'),
    from: S('status name before'),
    to: S('status name after'),
    ...stamped('at', 'when it changed', 'yyyy-MM-dd HH:mm:ss', false),
    runNum: Nullable(Type.Integer(), 'task rows: the attempt number after the change'),
    reason: Nullable(Type.String(), 'why (a failure, a cancel, a stuck instance), when recorded'),
    engineId: Nullable(Type.String(), 'the engine that wrote it; null for API writes (cancel)'),
  },
  { title: 'Transition' },
);
const Transitions = (what: string) => Type.Array(Transition, { description: `extension: every status change of ${what}, in the order committed` });

const NullableInt = (description: string) => Nullable(Type.Integer(), description);

/** Extension (taskMode 2, contract §11): a task instance's keys per status. */
const KeyCountsStruct = Type.Object(
  {
    runNum: I('the attempt that wrote the key states last (0 before the first)'),
    total: I('keys of the task'),
    byStatus: Type.Object(
      { PENDING: I('not run yet'), RUNNING: I('running'), SUCCESS: I('succeeded'), FAIL: I('failed'), TIMEOUT: I('stopped by the timeout'), CANCEL: I('stopped by a cancel'), INTERRUPTED: I('stopped by a shutdown') },
      { description: 'keys per status' },
    ),
  },
  { description: 'extension (taskMode 2, contract §11): how many of its keys are in each status; absent for a task run once' },
);

/** Extension: one task of Get Flow Instance's decoded `tasks` (render/instance.ts decodedTasks). */
const DecodedTask = Type.Object(
  {
    taskInstId: S('task instance id (empty for a node with none)'),
    taskId: I('task id'),
    taskName: S('task name'),
    nodeId: S('graph node id'),
    status: S('task instance status name (NONE for a node with no task instance)'),
    runNum: I('attempts started'),
    ...stamped('startTime', 'start of its first attempt', 'yyyy-MM-dd HH:mm:ss', true),
    ...stamped('endTime', 'its end', 'yyyy-MM-dd HH:mm:ss', true),
    durationMs: NullableInt('end - start, ms; null until it ends'),
    exitCode: NullableInt('exit code of its last attempt'),
    upstream: Type.Array(Type.String(), { description: 'node ids of its upstream tasks' }),
    keys: Type.Optional(KeyCountsStruct),
    attempts: Type.Array(
      Type.Object({
        runNum: I('attempt number'),
        outcome: S('RUNNING, SUCCESS, FAIL, TIMEOUT, LOST, CANCELLED ...'),
        startTimeMs: I('start, epoch ms'),
        endTimeMs: NullableInt('end, epoch ms'),
        durationMs: NullableInt('ms'),
        exitCode: NullableInt('exit code'),
        signal: Nullable(Type.String(), 'the signal that ended it'),
      }),
      { description: 'every attempt, in order' },
    ),
  },
  { title: 'DecodedTask' },
);

/** Extension: one reference of Get Flow Instance's decoded `references` (contract §10; render/instance.ts). */
const DecodedReference = Type.Object(
  {
    nodeId: S('reference node id'),
    cycleGap: S('the window unit and offset, e.g. D0, D-1'),
    status: Nullable(Type.String(), 'the wait: WAITING, SUCCESS, FAIL (timed out), CANCEL, SKIP; null before the instance started'),
    flowInstId: S('the bound instance of the referenced workflow ("" while none)'),
    boundStatus: S('the status that decides it (the bound instance\'s, or its task instance\'s for a task reference); NONE with nothing bound'),
    ...stamped('windowStart', 'start of the window (inclusive)', 'yyyy-MM-dd HH:mm:ss', false),
    ...stamped('windowEnd', 'end of the window (exclusive)', 'yyyy-MM-dd HH:mm:ss', false),
    ...stamped('deadline', 'when the wait times out', 'yyyy-MM-dd HH:mm:ss', true),
    reason: Nullable(Type.String(), 'why it failed'),
  },
  { title: 'DecodedReference' },
);

/** Extension: one alert of Get Flow Instance's `alerts` (contract §12; render/alerts.ts) with its delivery per channel. */
const DecodedAlert = Type.Object(
  {
    alertId: S('alert id'),
    event: S('FAIL or INTERNAL_ERROR (the instance ended so) or TIMEOUT (a task attempt timed out)'),
    taskInstId: Nullable(Type.String(), 'TIMEOUT: the task instance that timed out'),
    runNum: NullableInt('TIMEOUT: its attempt'),
    reason: Nullable(Type.String(), 'why'),
    status: S('PENDING (being sent or retried), SENT, or FAILED (nothing got through, or a channel gave up)'),
    tries: I('tries so far'),
    ...stamped('createdAt', 'when it was written (the end it alerts of)', 'yyyy-MM-dd HH:mm:ss', false),
    ...stamped('nextTryAt', 'the next try', 'yyyy-MM-dd HH:mm:ss', true),
    deliveries: Type.Array(
      Type.Object({
        channel: S('email, sms or webhook'),
        to: Type.Array(Type.String(), { description: 'recipients: addresses, phone numbers, or the webhook URL' }),
        status: S('PENDING, SENT, RETRYING, FAILED or SKIPPED'),
        tries: I('sends tried on this channel'),
        error: Nullable(Type.String(), 'the last failure, or why it was skipped'),
        ...stamped('sentAt', 'when it was sent', 'yyyy-MM-dd HH:mm:ss', true),
      }),
      { description: 'per channel; empty before the first try' },
    ),
  },
  { title: 'DecodedAlert' },
);

/** ref §5.4: Get Flow Instance and the elements of List Flow Instances (renderFlowInstance). */
export function FlowInstance(extras: boolean) {
  return Type.Object(
    {
      instanceId: S('flow instance id <flowId>-<yyyyMMddHHmm>00 (service time zone)'),
      flowId: I('workflow id'),
      flowName: S('workflow name'),
      freq: S('cron'),
      cycle: S('cycle'),
      parameters: JsonText('parameters it runs with: JSON text of [{key,value}]', Type.Array(Param)),
      overrides: JsonText('extension: the Update And Trigger overrides, JSON text of [{key,value}]', Type.Array(Param)),
      doAs: S('run-as account'),
      graph: JsonText('JSON text of an InstanceGraph', InstanceGraph(extras)),
      status: I(FLOW_INSTANCE_STATUS),
      statusDesc: S('status name, e.g. SUCCESS'),
      ...stamped('triggerTime', 'planned trigger time', 'yyyy-MM-dd HH:mm:ss', false),
      ...stamped('startTime', 'actual start', 'yyyy-MM-dd HH:mm:ss', true),
      ...stamped('endTime', 'actual end', 'yyyy-MM-dd HH:mm:ss', true),
      ...stamped('timestamp', 'creation time of the instance', 'yyyy-MM-dd HH:mm:ss.S', false),
      virtual: B('virtual instance'),
      owner: S('who triggered it (the flow creator for scheduled fires)'),
      alertMode: I('alert mode'),
      calDt: S('business date yyyy-MM-dd (trigger date - 1 day)'),
      hasEditPri: B('the caller owns the workflow'),
      hasReadPri: B('always true'),
      isCancelled: B('status is CANCEL'),
      flowVersion: I('extension: number (1, 2, ...) of the workflow version the instance runs (GET /flows?action=getVersion)'),
      flowVersionHash: S('extension: SHA-256 of that version\'s content'),
      transitions: Type.Optional(Transitions('the instance and its task instances (Get Flow Instance only)')),
      tasks: Type.Optional(Type.Array(DecodedTask, { description: 'extension (Get Flow Instance only): the graph\'s tasks decoded, with status names, attempts and upstream node ids' })),
      references: Type.Optional(Type.Array(DecodedReference, { description: 'extension (Get Flow Instance only): its references to other workflows, each with its window, bound instance and wait status' })),
      alerts: Type.Optional(Type.Array(DecodedAlert, { description: 'extension (Get Flow Instance only): its alerts (alertMode 1-3) and their delivery status per channel, oldest first' })),
    },
    { title: 'FlowInstance' },
  );
}

/** ref §5.6: Get Task Instance (renderTaskInstance). */
export const TaskInstance = Type.Object(
  {
    instanceId: S('task instance id <taskId>-<14 digits of the flow instance>'),
    taskId: I('task id'),
    taskName: S('task name'),
    cycle: S('cycle'),
    status: I('0 INIT, 6 READY, 2 RUNNING, 9 RERUN, 1 SUCCESS, -1 FAIL, 7 TIMEOUT, 8 CANCEL, 10 SKIP'),
    stsDesc: S('status name'),
    runNum: I('attempts started so far'),
    type: I('task type: 3 SHELL, 8 PYTHON'),
    syncType: I('sync type'),
    freq: S('cron'),
    ifPre: I('1 created by a trigger (pre-run), 0 by the schedule'),
    recallNum: I('retries made'),
    recallLimit: I('retry limit'),
    recallInterval: I('retry interval, seconds'),
    timeout: I('timeout, seconds (0 none)'),
    isTimeout: B('the last attempt timed out'),
    ...stamped('triggerTime', 'planned trigger time', 'yyyy-MM-dd HH:mm:ss', false),
    ...stamped('startTime', 'start of the latest attempt', 'yyyy-MM-dd HH:mm:ss', true),
    ...stamped('endTime', 'end of the latest attempt', 'yyyy-MM-dd HH:mm:ss', true),
    timeStamp: S('creation time, Java Date.toString() style'),
    timeStampMs: I('creation time, epoch milliseconds (extension)'),
    flowInstId: S('flow instance id'),
    doAs: S('run-as account'),
    alert: B('alerting on'),
    runMode: S('RunMode struct as JSON text'),
    cmd: S('command line (before parameter substitution)'),
    hasResourceBefore: B('always false'),
    resourceName: S('resource name'),
    fileName: S('file package'),
    resourceVersion: S('always ""'),
    exitCode: Nullable(Type.Integer(), 'extension: exit code of the latest attempt; null before it ends'),
    transitions: Transitions('the task instance'),
    keys: Type.Optional(KeyCountsStruct),
  },
  { title: 'TaskInstance' },
);

/** ref §5.7 Task struct, export form (exportTask), plus the extensions parameters, x, y. */
const ExportTask = Type.Object(
  {
    name: S('task name'),
    resource: S('resource name'),
    type: S('SHELL or PYTHON (accepted on import also as 3 / "COMMAND" and 8)'),
    syncType: I('sync type'),
    cmd: S('command line or Python script'),
    submitter: S('submission account'),
    filePackage: S('file location'),
    cron: S('task schedule time'),
    priorityLevel: I('priority'),
    timeout: I('seconds, 0 none'),
    retryLimit: I('retries after a failure'),
    retryInterval: I('seconds between retries'),
    successCode: S('exit code(s) meaning success, comma-separated'),
    asLink: B('may be referenced by other workflows'),
    runMode: S('RunMode struct as JSON text'),
    waitCode: Type.Optional(S('V2.0 field (ref §5.7), "" ; emitted by both versions')),
    parameters: JsonText('extension: task parameters, JSON text of [{key,value}]', Type.Array(Param)),
    x: N('extension: canvas x'),
    y: N('extension: canvas y'),
  },
  { title: 'ExportTask' },
);

/** ref §5.7 export Flow Struct (exportStruct): what Export Flow answers and Import Flow takes as flowJson. */
export const ExportFlow = Type.Object(
  {
    name: S('workflow name'),
    cycle: S('cycle'),
    cron: S('cron (freq in the Flow struct)'),
    parameters: JsonText('global parameters, JSON text of [{key,value}]', Type.Array(Param)),
    alertMode: I('alert mode'),
    submitter: S('run-as account (doAs)'),
    owners: S('owners'),
    visitors: S('visitors'),
    type: I('0 manual, 1 periodic, 2 temporary'),
    syncType: I('sync type'),
    desc: S('description'),
    startTime: S('effective date yyyy-MM-dd, or ""'),
    tasks: Type.Array(ExportTask),
    flowLinks: Type.Array(
      Type.Object({ linkId: S('reference node id'), sourceFlowName: S('referenced workflow'), flowId: S('its id'), isVirtual: B('virtual'), x: N('canvas x'), y: N('canvas y') }),
    ),
    taskLinks: Type.Array(Type.Object({}, { additionalProperties: true }), { description: 'always [] (not supported yet)' }),
    relations: Type.Array(
      Type.Object({ sourceTaskName: S('upstream task'), targetTaskName: S('downstream task'), rerun: B('runs in a Trigger From Task run'), cycleGap: S('offset') }),
    ),
    linkRelations: Type.Array(Type.Object({}, { additionalProperties: true }), { description: 'always [] (not supported yet)' }),
    active: I('extension: 0 paused, 1 started'),
    queue: S('extension: computing queue'),
    alertTo: Type.Optional(S('V2.0 field (ref §10); emitted by both versions')),
    appId: Type.Optional(S('V2.0 field (ref §10); emitted by both versions')),
  },
  { title: 'ExportFlow' },
);

/** ref §5.8 WorkFlowDir: recursive, so it lives in components.schemas and refers to itself. */
export const WORKFLOW_DIR_REF = '#/components/schemas/WorkFlowDir';
const WORKFLOW_DIR_NODE = {
  title: S('directory name ("Workflow" for the root) or workflow name'),
  type: I('1 (Workflow directory tree)'),
  key: Type.Union([Type.String(), Type.Integer()], { description: 'directory id (32 hex) or, for a workflow leaf, the flowId' }),
  isDirectory: B('true for directories, false for workflow leaves'),
};
/** A WorkFlowDir node as TypeScript sees it (the `$ref` of `children` hides the recursion from Static). */
export interface WorkFlowDirNode extends Static<TObject<typeof WORKFLOW_DIR_NODE>> {
  children?: WorkFlowDirNode[];
  editable?: boolean;
}
/** A reference to the WorkFlowDir component (its TypeScript type: WorkFlowDirNode). */
export const WorkFlowDirRef = () => Type.Unsafe<WorkFlowDirNode>({ $ref: WORKFLOW_DIR_REF });
export const WorkFlowDir = Type.Object(
  {
    ...WORKFLOW_DIR_NODE,
    children: Type.Optional(Type.Array(WorkFlowDirRef(), { description: 'directories only: sub-directories, then workflows' })),
    editable: Type.Optional(B('workflow leaves only: the caller owns it')),
  },
  { title: 'WorkFlowDir' },
);

/** ref §5.8 FlowSimpInfo: an element of Get My Flow (renderMyFlow). */
export const FlowSimpInfo = Type.Object(
  {
    flowId: Type.String({ description: 'workflow id, as a string (ref §5.8 FlowSimpInfo)' }),
    editable: Type.Boolean({ description: 'the caller owns it' }),
    flowName: Type.String({ description: 'workflow name' }),
    cycle: Type.String({ description: 'M, W, D, H or mi' }),
  },
  { title: 'FlowSimpInfo' },
);

/** ref §5.8 PageFlow: an element of Search Flow (renderPageFlow). */
export const PageFlow = Type.Object(
  { flowId: Type.Integer({ description: 'workflow id' }), flowName: Type.String({ description: 'workflow name' }) },
  { title: 'PageFlow' },
);

// ---- flow versions (extension, issue 12; render/versions.ts) ----

/** A version's reference (renderVersionRef). */
export const FlowVersionRef = Type.Object(
  {
    version: Type.Integer({ description: 'version number, 1, 2, ... per workflow' }),
    hash: Type.String({ description: 'SHA-256 of the version\'s content' }),
    createdBy: Type.String({ description: 'who imported or saved it' }),
    createTime: Type.String({ description: 'when, yyyy-MM-dd HH:mm:ss in the service time zone' }),
    createTimeMs: Type.Integer({ description: 'when, epoch ms' }),
  },
  { title: 'FlowVersionRef' },
);

/** List Flow Versions (renderVersionList). */
export const FlowVersionList = Type.Object(
  {
    flowId: Type.Integer({ description: 'workflow id' }),
    currentVersion: Type.Union([Type.Integer(), Type.Null()], { description: 'the version the workflow has now' }),
    versions: Type.Array(FlowVersionRef, { description: 'newest first' }),
  },
  { title: 'FlowVersionList' },
);

/** Get Flow Version (renderVersion): the reference and the stored content, as the store keeps it. */
export const FlowVersion = Type.Object(
  {
    flowId: Type.Integer({ description: 'workflow id' }),
    ...FlowVersionRef.properties,
    flow: Type.Object({}, { additionalProperties: true, description: 'the workflow\'s definition in this version' }),
    tasks: Type.Array(Type.Object({}, { additionalProperties: true }), { description: 'its tasks, in node order' }),
  },
  { title: 'FlowVersion' },
);

const FieldChange = Type.Object({ field: Type.String(), from: Type.Unknown(), to: Type.Unknown() }, { title: 'FieldChange' });
const TaskRef = Type.Object({ id: Type.Integer(), name: Type.String() });
const RelRef = Type.Object({ source: Type.String(), target: Type.String() });

/** Compare Flow Versions (renderComparison): the two references and the domain's VersionDiff. */
export const FlowVersionComparison = Type.Object(
  {
    flowId: Type.Integer({ description: 'workflow id' }),
    from: FlowVersionRef,
    to: FlowVersionRef,
    same: Type.Boolean({ description: 'the two contents are equal' }),
    flow: Type.Array(FieldChange, { description: 'workflow fields that differ' }),
    tasks: Type.Object({
      added: Type.Array(TaskRef),
      removed: Type.Array(TaskRef),
      changed: Type.Array(Type.Object({ id: Type.Integer(), name: Type.String(), changes: Type.Array(FieldChange) })),
    }),
    relations: Type.Object({
      added: Type.Array(RelRef),
      removed: Type.Array(RelRef),
      changed: Type.Array(Type.Object({ source: Type.String(), target: Type.String(), changes: Type.Array(FieldChange) })),
    }),
  },
  { title: 'FlowVersionComparison' },
);

// ---- the wire types: what each renderer (src/api/render) returns ----

export type RelationWire = Static<typeof Relation>;
export type FlowSimpleInfoWire = Static<typeof FlowSimpleInfo>;
export type TaskSimpleInfoWire = Static<typeof TaskSimpleInfo>;
export type FlowGraphWire = Static<typeof FlowGraph>;
/** V2.1's Flow or V2.0's (with alertTo and appId). */
export type FlowWire = Static<ReturnType<typeof Flow>>;
export type FlowSimpInfoWire = Static<typeof FlowSimpInfo>;
export type PageFlowWire = Static<typeof PageFlow>;
export type InstanceGraphTaskWire = Static<typeof InstanceGraphTask>;
export type InstanceGraphFlowWire = Static<typeof InstanceGraphFlow>;
/** V2.1's InstanceGraph or V2.0's (with alertTo and appId). */
export type InstanceGraphWire = Static<ReturnType<typeof InstanceGraph>>;
export type TransitionWire = Static<typeof Transition>;
export type DecodedTaskWire = Static<typeof DecodedTask>;
export type DecodedReferenceWire = Static<typeof DecodedReference>;
export type DecodedAlertWire = Static<typeof DecodedAlert>;
export type DecodedAttemptWire = DecodedTaskWire['attempts'][number];
/** Both versions' (extras only change the InstanceGraph inside `graph`, a string). */
export type FlowInstanceWire = Static<ReturnType<typeof FlowInstance>>;
export type TaskInstanceWire = Static<typeof TaskInstance>;
export type WorkFlowDirWire = Static<typeof WorkFlowDir>;
export type FlowVersionRefWire = Static<typeof FlowVersionRef>;
export type FlowVersionListWire = Static<typeof FlowVersionList>;
export type FlowVersionWire = Static<typeof FlowVersion>;
export type FlowVersionComparisonWire = Static<typeof FlowVersionComparison>;
