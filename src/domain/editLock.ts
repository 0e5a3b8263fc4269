// The edit lock rule (contract §2): a lock binds other users until it expires; its holder is never bound
// by it. Pure: the service's early check and the store's re-read after a refused write ask the same
// question, and the store's guarded writes say the same in SQL (lock free, expired, or the writer's).
import type { EditLock } from './types.js';

/** The lock when it refuses a write by `userId` at `now` (held by another user, not expired), else null. */
export function lockHeldByOther(lock: EditLock | null, userId: string, now: number): EditLock | null {
  return lock && lock.expiresAt > now && lock.userId !== userId ? lock : null;
}
