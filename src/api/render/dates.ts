// Date strings of responses, rendered in the service zone (ref §2.5), each with its epoch-ms twin
// (contract §1 extension) so clients never parse zone-less strings.
import { addDays, formatCivil, formatInZone, toCivil } from '../../domain/time.js';

export const DATE_TIME = 'yyyy-MM-dd HH:mm:ss';
/** createTime, updateTime and the instance timestamp: "2019-08-08 09:32:12.0" style. */
export const DATE_TIME_S = 'yyyy-MM-dd HH:mm:ss.S';

/** A known time: `name` text and `${name}Ms` epoch ms (structs.ts stamped(..., false)). */
export type Stamp<K extends string> = { [P in K]: string } & { [P in `${K}Ms`]: number };
/** A time that may not be known yet: both null until then (structs.ts stamped(..., true)). */
export type NullableStamp<K extends string> = { [P in K]: string | null } & { [P in `${K}Ms`]: number | null };

/** `{ [name]: "yyyy-MM-dd HH:mm:ss", [name + "Ms"]: ms }`; both null when the time is not known yet. */
export function stamped<K extends string>(name: K, ms: number, tz: string, pattern?: string): Stamp<K>;
export function stamped<K extends string>(name: K, ms: number | null, tz: string, pattern?: string): NullableStamp<K>;
export function stamped(name: string, ms: number | null, tz: string, pattern = DATE_TIME): Record<string, string | number | null> {
  return { [name]: ms === null ? null : formatInZone(ms, tz, pattern), [`${name}Ms`]: ms };
}

/** Business date: the trigger date - 1 day, yyyy-MM-dd, in the zone. */
export function calDt(triggerTime: number, tz: string): string {
  return formatCivil(addDays(toCivil(triggerTime, tz), -1), 'yyyy-MM-dd');
}
