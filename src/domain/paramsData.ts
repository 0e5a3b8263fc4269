// The signed form of a query string (contract §9), shared by the service's check (signature.ts, over
// node:crypto) and the SDK's WebCrypto signer in the browser: pure, no I/O, no node: modules.

/**
 * paramsData: the query's parameters sorted by key (ASCII order, by UTF-16 code unit as JavaScript
 * compares; repeated keys keep their order of arrival), each `key + value` with the values URL-decoded,
 * concatenated with no separators. `rawQuery` is what follows `?` in the request line ('' for none).
 */
export function paramsData(rawQuery: string): string {
  if (rawQuery === '') return '';
  const pairs = [...new URLSearchParams(rawQuery)];
  // A stable sort on the key alone: duplicates stay as the client sent them.
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return pairs.map(([k, v]) => k + v).join('');
}
