// What every use case gets: the store, the resolved configuration and the clock. Built once by the
// composition root (src/server.ts, or a test) and passed explicitly; no use case reads globals.
import type { Config } from '../config.js';
import type { Clock } from '../domain/clock.js';
import type { User } from '../domain/types.js';
import type { Store } from '../store/store.js';

export interface Deps {
  store: Store;
  config: Config;
  clock: Clock;
}

/** The user a request acts for, already checked to exist in its org (src/api trust hook). */
export interface Caller {
  user: User;
  /** The access key of the app that signed the request; null with authentication off. */
  app?: string | null;
}
