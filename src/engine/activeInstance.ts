// The engine's in-memory view of one RUNNING flow instance it drives: node ids, relations, task
// definitions from the instance's snapshot, and the task instances' statuses as last committed. It is a
// cache of the store, rebuilt from the store after a restart or a failed guard; the store stays the truth.
import type { FlowInstance, Relation, TaskDef, TaskInstance } from '../domain/types.js';

export class ActiveInstance {
  readonly nodeIds: string[];
  readonly relations: Relation[];
  readonly tasksByNode = new Map<string, TaskInstance>();
  readonly tasksById = new Map<string, TaskInstance>();
  readonly defsByTaskId = new Map<number, TaskDef>();
  /** Attempts of this instance whose process is running. */
  running = 0;
  /** Set once the instance reached a terminal status (tasks may still be running). */
  ended = false;

  constructor(
    public instance: FlowInstance,
    tasks: TaskInstance[],
  ) {
    for (const t of instance.snapshot.tasks) this.defsByTaskId.set(t.id, t);
    this.nodeIds = instance.snapshot.flow.nodes.map((n) => n.nodeId);
    this.relations = instance.snapshot.flow.relations;
    this.setTasks(tasks);
  }

  get id(): string {
    return this.instance.id;
  }

  task(nodeId: string): TaskInstance {
    const t = this.tasksByNode.get(nodeId);
    if (!t) throw new Error(`instance ${this.id} has no task instance for node ${nodeId}`);
    return t;
  }

  /** Replaces the cached task instances (after a reload from the store). */
  setTasks(tasks: TaskInstance[]): void {
    this.tasksByNode.clear();
    this.tasksById.clear();
    for (const t of tasks) {
      this.tasksByNode.set(t.nodeId, t);
      this.tasksById.set(t.id, t);
    }
  }

  taskByInstanceId(taskInstanceId: string): TaskInstance | undefined {
    return this.tasksById.get(taskInstanceId);
  }

  def(taskId: number): TaskDef {
    const d = this.defsByTaskId.get(taskId);
    if (!d) throw new Error(`instance ${this.id} has no definition for task ${taskId}`);
    return d;
  }
}
