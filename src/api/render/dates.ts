// Date strings of responses, rendered in the service zone (ref §2.5), each with its epoch-ms twin
// (contract §1 extension) so clients never parse zone-less strings.
import { addDays, formatCivil, formatInZone, toCivil } from '../../domain/time.js';

export const DATE_TIME = 'yyyy-MM-dd HH:mm:ss';
/** createTime, updateTime and the instance timestamp: "2019-08-08 09:32:12.0" style. */
export const DATE_TIME_S = 'yyyy-MM-dd HH:mm:ss.S';

/** `{ [name]: "yyyy-MM-dd HH:mm:ss", [name + "Ms"]: ms }`; both null when the time is not known yet. */
export function stamped<K extends string>(name: K, ms: number | null, tz: string, pattern = DATE_TIME): Record<K | `${K}Ms`, string | number | null> {
  return { [name]: ms === null ? null : formatInZone(ms, tz, pattern), [`${name}Ms`]: ms } as Record<K | `${K}Ms`, string | number | null>;
}

/** Business date: the trigger date - 1 day, yyyy-MM-dd, in the zone. */
export function calDt(triggerTime: number, tz: string): string {
  return formatCivil(addDays(toCivil(triggerTime, tz), -1), 'yyyy-MM-dd');
}
