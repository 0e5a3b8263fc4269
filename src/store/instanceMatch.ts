// Which instance ids a search expression can match, decomposed along the id's shape `<flowId>-<stamp>`
// (domain/ids.ts: the flow's id, one dash, digits): a fragment is inside the flow part (then every
// instance of those flows matches), inside the stamp (then the instances of some trigger minutes may),
// or spans the dash (flows ending in A, stamps starting with B). Pure: no SQL, no I/O; instanceSearch.ts
// turns the answer into index probes and still checks `lower(id) like` on every row it reads this way.

export interface IdMatch {
  /** Flows all of whose instances match (the fragment is inside `<flowId>-`). */
  wholeFlow(flowId: number): boolean;
  /**
   * The stamps (id after the dash) an instance must have to match, as a LIKE pattern over digits, and
   * the flows such an instance must belong to; null when no stamp decides (the flow part does, or none).
   */
  stamp: { like: string; prefix: string | null; flow(flowId: number): boolean } | null;
}

const NOTHING: IdMatch = { wholeFlow: () => false, stamp: null };
const ANY_FLOW = () => true;

/** `p`: the expression as the LIKE pattern sees it (lowercased, wildcards literal). */
export function idMatch(p: string): IdMatch {
  // An id holds digits and one dash only: anything else (letters, %, _, spaces) matches no id.
  if (p === '' || /[^0-9-]/.test(p)) return NOTHING;
  const parts = p.split('-');
  if (parts.length > 2) return NOTHING;
  if (parts.length === 1) {
    return { wholeFlow: (id) => String(id).includes(p), stamp: { like: `%${p}%`, prefix: null, flow: ANY_FLOW } };
  }
  const [a, b] = parts;
  // "A-": the flow part decides alone.
  if (b === '') return { wholeFlow: (id) => String(id).endsWith(a), stamp: null };
  return { wholeFlow: () => false, stamp: { like: `${b}%`, prefix: b, flow: a === '' ? ANY_FLOW : (id) => String(id).endsWith(a) } };
}
