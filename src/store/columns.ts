// Every column of the tables the hot reads take whole, as lists the compiler checks to be complete.
// Why not `select *`: PostgreSQL runs the compiled-once statements prepared (postgres.ts), and a prepared
// `*` would fail ("cached plan must not change result type") once another process's migration adds a
// column, so `*` texts run unprepared: parsed and planned on every call, which cost a trigger more of
// PostgreSQL's CPU than its inserts. A named list keeps its result type whatever columns are added.
import type { FlowInstancesTable, FlowsTable, ReferenceWaitsTable, TasksTable, UsersTable } from './db.js';

/** `cols` when it names every column of T (a compile error names the first one missing). */
function every<T>() {
  return <const C extends ReadonlyArray<keyof T & string>>(cols: C & ([Exclude<keyof T, C[number]>] extends [never] ? unknown : { missing: Exclude<keyof T, C[number]> })): C => cols;
}

export const USER_COLUMNS = every<UsersTable>()(['id', 'name', 'org_id', 'locked', 'created_at', 'email', 'phone']);

export const FLOW_COLUMNS = every<FlowsTable>()([
  'id', 'org_id', 'dir_id', 'name', 'description', 'type', 'active', 'freq', 'cycle', 'owners', 'visitors', 'do_as', 'alert_mode', 'alert_to',
  'app_id', 'sync_type', 'start_date', 'queue', 'entry', 'is_virtual', 'parameters', 'nodes', 'flow_refs', 'relations', 'creator_id',
  'creator_name', 'update_user', 'created_at', 'updated_at', 'lock_user_id', 'lock_user_name', 'lock_expires_at', 'schedule_from', 'version',
  'version_id', 'ref_timeout_sec',
]);

export const TASK_COLUMNS = every<TasksTable>()([
  'id', 'flow_id', 'name', 'type', 'cmd', 'resource', 'sync_type', 'submitter', 'file_package', 'cron', 'priority_level', 'timeout_sec',
  'retry_limit', 'retry_interval_sec', 'success_code', 'as_link', 'run_mode', 'parameters', 'wait_code',
]);

export const FLOW_INSTANCE_COLUMNS = every<FlowInstancesTable>()([
  'id', 'flow_id', 'org_id', 'seq', 'kind', 'start_task_id', 'trigger_time', 'due_at', 'status', 'owner', 'overrides', 'version_id',
  'created_at', 'started_at', 'ended_at', 'updated_at', 'reason',
]);

export const REFERENCE_WAIT_COLUMNS = every<ReferenceWaitsTable>()([
  'instance_id', 'node_id', 'cycle_gap', 'flow_id', 'ref_flow_id', 'ref_task_id', 'window_start', 'window_end', 'deadline', 'status', 'targets',
  'bound_id', 'bound_status', 'reason', 'created_at', 'ended_at',
]);
