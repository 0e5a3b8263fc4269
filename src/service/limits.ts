// The numeric limits of the API's inputs (contract §7), in one place: what a JS number carries exactly,
// what the store's columns hold, and the service's own bounds. Constants only; src/service/input.ts and
// paging.ts check against them and answer 62102 (outOfRange) naming the field and the limit.

/** Ids and other integers: a JSON number is exact up to 2^53 - 1 (the store's bigint holds more). */
export const MAX_INT = Number.MAX_SAFE_INTEGER;

/** A 32-bit signed integer column (task timeout, retries, priority): every task setting stays below. */
export const MAX_INT32 = 2_147_483_647;

/**
 * Import's desired `flowId`: the reference types it Integer (32 bits). A larger desired id would move the
 * id counter next to 2^53, where the next allocated ids are no longer exact.
 */
export const MAX_DESIRED_FLOW_ID = MAX_INT32;

/** 9999-12-31T23:59:59.999Z: every date string stays 4-digit. */
export const MAX_EPOCH_MS = 253_402_300_799_999;

/** 1973-03-03: a trigger time below it looks like seconds (contract §4). */
export const MIN_TRIGGER_TIME_MS = 100_000_000_000;

/** Rows a page may start past (`(pageNo - first page) * pageSize`). */
export const MAX_PAGE_OFFSET = 10_000_000;

export const MAX_PAGE_SIZE = 1000;

/**
 * A search `expression` (Get My Flow, Search Flow, List Flow Instances), in characters. SQLite refuses a
 * LIKE pattern past 50,000 bytes ("LIKE or GLOB pattern too complex"): a 1 MB expression answered 62109.
 * Escaped (x2) and in UTF-8 (up to 3 bytes a character), 1000 characters stay far below.
 */
export const MAX_EXPRESSION_LENGTH = 1000;

/** Task settings (seconds, counts): `max` (each far below MAX_INT32) and what a message says of it. */
export const TASK_LIMITS = {
  timeout: { max: 366 * 86_400, why: 'seconds, 366 days; 0 = none' },
  retryLimit: { max: 100, why: undefined },
  retryInterval: { max: 86_400, why: 'seconds, one day' },
  priorityLevel: { max: 1000, why: undefined },
  syncType: { max: 1, why: undefined },
} as const;

/** Levels of objects and arrays a task's `runMode` may nest (a RunMode struct has two or three). */
export const MAX_RUN_MODE_DEPTH = 16;

/** A workflow's name (Import's flowName, Save's name), in characters. */
export const MAX_NAME_LENGTH = 256;

/** A workflow's description, in characters. */
export const MAX_DESC_LENGTH = 10_000;
