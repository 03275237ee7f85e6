/**
 * Lookups of reference data (settings, routing, groups) shared by the callers of one memo: each key
 * is loaded once and kept for `ttlMs` (all keys are forgotten together when it runs out), so a
 * change reaches its users within that time. The default keeps them for the memo's whole life (one
 * call's worth). A load that fails is forgotten, and a caller that was waiting for another's load
 * loads for itself.
 */
export class LookupMemo {
  private readonly entries = new Map<string, Promise<unknown>>();
  private until: number;

  constructor(private readonly ttlMs = Number.POSITIVE_INFINITY) {
    this.until = Date.now() + ttlMs;
  }

  get<T>(key: string, load: () => Promise<T>): Promise<T> {
    const now = Date.now();
    if (now >= this.until) {
      this.entries.clear();
      this.until = now + this.ttlMs;
    }
    const hit = this.entries.get(key) as Promise<T> | undefined;
    if (hit) return hit.catch(() => load());
    const loading = load();
    this.entries.set(key, loading);
    loading.catch(() => {
      if (this.entries.get(key) === loading) this.entries.delete(key);
    });
    return loading;
  }
}
