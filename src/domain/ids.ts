// Flow and task instance ids (contract §4): `<flowId>-<yyyyMMddHHmm>00`, the trigger time cut to the
// minute in the service zone, and `<taskId>-<same 14 digits>`. The id doubles as the "one instance per
// flow per minute" unique key, so it must be a pure function of (flow, trigger time, zone).
import { formatInZone } from './time.js';

const INSTANCE_ID = /^(\d+)-(\d{14})$/;

export function instanceSuffix(triggerTime: number, tz: string): string {
  // Seconds are always "00": two triggers in one minute share the id, and the second is refused.
  return formatInZone(triggerTime, tz, 'yyyyMMddHHmm') + '00';
}

export function flowInstanceId(flowId: number, triggerTime: number, tz: string): string {
  return `${flowId}-${instanceSuffix(triggerTime, tz)}`;
}

export function taskInstanceId(taskId: number, suffix: string): string {
  return `${taskId}-${suffix}`;
}

/** The head (flowId or taskId) and the 14-digit suffix, or null for anything else (e.g. 12-digit ids). */
export function parseInstanceId(id: string): { head: number; suffix: string } | null {
  const m = typeof id === 'string' ? INSTANCE_ID.exec(id) : null;
  if (!m) return null;
  const head = Number(m[1]);
  if (!Number.isSafeInteger(head)) return null;
  return { head, suffix: m[2] };
}
