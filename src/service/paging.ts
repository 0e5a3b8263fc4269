// Pagination and sorters of Search Flow and List Flow Instances (ref §2.4, contract §7): page numbers from
// the version's base (V2.1: 1, V2.0: 0), default page size 10, at most 1000, a page starting at most
// 10,000,000 rows in, sort fields whitelisted per operation (camelCase or snake_case), ASC by default.
// Every fault is a 62102 naming the field; the offset handed to the store is always a small exact integer.
import { invalid, outOfRange } from '../domain/errors.js';
import { isPresent, jsonValue, outOfRangeError, show, toInt } from './input.js';
import { MAX_PAGE_OFFSET, MAX_PAGE_SIZE } from './limits.js';

export { MAX_PAGE_SIZE };
export const DEFAULT_PAGE_SIZE = 10;
/** The reference's text for a bad sorter (the V2.0 adapter rewrites it to its own). */
export const INVALID_SORTER_TEXT = 'The sorters field parameter is invalid';

export interface Page<F extends string> {
  offset: number;
  limit: number;
  sort: Array<{ field: F; desc: boolean }>;
}

function intField(v: unknown, field: string): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v)) return Number(v);
  return toInt(v, field); // throws naming the field
}

function camel(s: string): string {
  return s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Parses `pagination` (absent = first page of 10, no sorters). `fields` lists the allowed sort fields. */
export function parsePagination<F extends string>(input: unknown, pageBase: 0 | 1, fields: readonly F[]): Page<F> {
  if (!isPresent(input)) return { offset: 0, limit: DEFAULT_PAGE_SIZE, sort: [] };
  const p = jsonValue(input, 'pagination');
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw invalid('pagination', 'Invalid parameter: pagination must be an object {pageNo, pageSize, sorters}');
  const o = p as Record<string, unknown>;
  const pageNo = isPresent(o.pageNo) ? intField(o.pageNo, 'pagination.pageNo') : pageBase;
  if (pageNo < pageBase) throw invalid('pagination.pageNo', `Invalid parameter: pagination.pageNo must be ${pageBase} or more (pages start at ${pageBase}), got ${pageNo}`);
  const pageSize = isPresent(o.pageSize) ? intField(o.pageSize, 'pagination.pageSize') : DEFAULT_PAGE_SIZE;
  if (pageSize <= 0 || pageSize > MAX_PAGE_SIZE) {
    throw outOfRange('pagination.pageSize', `Invalid parameter: pagination.pageSize must be between 1 and ${MAX_PAGE_SIZE}, got ${pageSize}`);
  }
  // Compared before multiplying: a huge pageNo times pageSize is no exact integer (SQLite refused such
  // an OFFSET with "datatype mismatch", which answered 62109).
  const lastPageNo = pageBase + Math.floor(MAX_PAGE_OFFSET / pageSize);
  if (pageNo > lastPageNo) {
    const first = pageBase === 0 ? 'pageNo' : `(pageNo - ${pageBase})`;
    throw outOfRangeError(
      'pagination.pageNo',
      `a page may start at most ${MAX_PAGE_OFFSET} rows in (${first} * pageSize); with pageSize ${pageSize}, pageNo is at most ${lastPageNo}`,
      o.pageNo,
    );
  }
  return { offset: (pageNo - pageBase) * pageSize, limit: pageSize, sort: parseSorters(o.sorters, fields) };
}

function parseSorters<F extends string>(v: unknown, fields: readonly F[]): Page<F>['sort'] {
  if (!isPresent(v)) return [];
  let list: unknown;
  try {
    list = jsonValue(v, 'pagination.sorters');
  } catch {
    list = v; // not JSON text: reported below as not a list
  }
  const bad = (i: number, what: string) => invalid(`pagination.sorters[${i}]`, `${INVALID_SORTER_TEXT}: pagination.sorters[${i}] ${what}; allowed fields: ${fields.join(', ')}`);
  if (!Array.isArray(list)) throw invalid('pagination.sorters', `${INVALID_SORTER_TEXT}: pagination.sorters must be a list of {field, order}`);
  return list.map((s, i) => {
    if (typeof s !== 'object' || s === null) throw bad(i, 'must be an object {field, order}');
    const { field, order } = s as Record<string, unknown>;
    if (typeof field !== 'string' || !fields.includes(camel(field.trim()) as F)) throw bad(i, `has field ${show(field)}`);
    if (isPresent(order) && (typeof order !== 'string' || !/^(asc|desc)$/i.test(order.trim()))) throw bad(i, `has order ${show(order)} (ASC or DESC)`);
    return { field: camel(field.trim()) as F, desc: typeof order === 'string' && order.trim().toUpperCase() === 'DESC' };
  });
}
