import { describe, expect, it, vi } from 'vitest';
import { LookupMemo } from '../../src/platform/memo.ts';

describe('LookupMemo', () => {
  it('loads a key once while it lives, and again after its time runs out', async () => {
    vi.useFakeTimers({ now: 0, toFake: ['Date'] });
    try {
      const memo = new LookupMemo(1000);
      let loads = 0;
      const load = async () => ++loads;
      expect(await memo.get('a', load)).toBe(1);
      expect(await memo.get('a', load)).toBe(1);
      expect(await memo.get('b', load)).toBe(2);
      vi.setSystemTime(999);
      expect(await memo.get('a', load)).toBe(1);
      vi.setSystemTime(1000);
      expect(await memo.get('a', load)).toBe(3);
      expect(await memo.get('b', load)).toBe(4);
    } finally {
      vi.useRealTimers();
    }
  });

  it('without a time, keeps every key for its whole life', async () => {
    const memo = new LookupMemo();
    const load = vi.fn(async () => 'x');
    await Promise.all([memo.get('k', load), memo.get('k', load), memo.get('k', load)]);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('forgets a failed load; a caller that waited on it loads for itself', async () => {
    const memo = new LookupMemo(60_000);
    let fail = true;
    const first = memo.get('k', async () => {
      if (fail) throw new Error('connection lost');
      return 'never';
    });
    const waiting = memo.get('k', async () => 'own');
    await expect(first).rejects.toThrow('connection lost');
    expect(await waiting).toBe('own');
    fail = false;
    expect(await memo.get('k', async () => 'fresh')).toBe('fresh');
    expect(await memo.get('k', async () => 'not loaded')).toBe('fresh');
  });
});
