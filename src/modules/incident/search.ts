/**
 * How a `q` search is run. Terms are matched as substrings of title + description (lower-cased).
 * Terms of 3+ characters use the trigram index; a 2-character all-CJK term (常见: "邮件", "网络")
 * uses the CJK bigram index; shorter terms fall back to a scan, bounded by the other filters.
 */
export interface SearchPlan {
  /** Lower-cased terms every match must contain. */
  terms: string[];
  /** CJK bigrams the indexed bigram array must contain (for 2-character terms). */
  bigrams: string[];
}

const CJK = /^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+$/;

export function planSearch(q: string): SearchPlan {
  const terms = [...new Set(q.toLowerCase().split(/\s+/).filter(Boolean))].slice(0, 8);
  const bigrams = terms.filter((t) => [...t].length === 2 && CJK.test(t));
  return { terms, bigrams };
}

/** A LIKE pattern matching `term` anywhere, with LIKE's wildcards escaped. */
export function containsPattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
