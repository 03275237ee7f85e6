import { describe, expect, it } from 'vitest';
import { type ACTIONS, allowedActions, canApply } from '../../../src/modules/incident/lifecycle.ts';
import { DEFAULT_MATRIX, matrixProblems, priorityOf, raise } from '../../../src/modules/incident/priority.ts';
import { containsPattern, planSearch } from '../../../src/modules/incident/search.ts';

describe('priority matrix', () => {
  it.each([
    ['high', 'high', 'P1'],
    ['high', 'medium', 'P2'],
    ['high', 'low', 'P3'],
    ['medium', 'high', 'P2'],
    ['medium', 'medium', 'P3'],
    ['medium', 'low', 'P4'],
    ['low', 'high', 'P3'],
    ['low', 'medium', 'P4'],
    ['low', 'low', 'P5'],
  ] as const)('impact %s x urgency %s = %s', (impact, urgency, expected) => {
    expect(priorityOf(DEFAULT_MATRIX, impact, urgency)).toBe(expected);
  });

  it('uses a configured matrix', () => {
    const fourLevels = { ...DEFAULT_MATRIX, low: { high: 'P3', medium: 'P4', low: 'P4' } } as const;
    expect(priorityOf(fourLevels, 'low', 'low')).toBe('P4');
  });

  it('names missing or invalid cells', () => {
    expect(matrixProblems(DEFAULT_MATRIX)).toEqual([]);
    expect(matrixProblems({ high: { high: 'P1', medium: 'P9' } })).toContain('/high/medium');
    expect(matrixProblems({ high: { high: 'P1', medium: 'P9' } })).toContain('/low/low');
  });

  it('raises priority up to P1', () => {
    expect(raise('P3')).toBe('P2');
    expect(raise('P1')).toBe('P1');
  });
});

describe('incident lifecycle', () => {
  const table: [keyof typeof ACTIONS, string, boolean][] = [
    ['assign', 'new', true],
    ['assign', 'closed', false],
    ['start', 'assigned', true],
    ['start', 'pending', false],
    ['pend', 'in_progress', true],
    ['pend', 'assigned', false],
    ['resume', 'pending', true],
    ['resume', 'in_progress', false],
    ['resolve', 'in_progress', true],
    ['resolve', 'new', true],
    ['resolve', 'pending', false],
    ['reopen', 'resolved', true],
    ['reopen', 'closed', false],
    ['close', 'resolved', true],
    ['close', 'in_progress', false],
    ['cancel', 'pending', true],
    ['cancel', 'resolved', false],
    ['escalate', 'in_progress', true],
    ['escalate', 'resolved', false],
  ];
  it.each(table)('%s from %s: %s', (action, status, allowed) => {
    expect(canApply(action, status as never)).toBe(allowed);
  });

  it('lists what a status allows', () => {
    expect(allowedActions('resolved')).toEqual(['reopen', 'close']);
    expect(allowedActions('closed')).toEqual([]);
    expect(allowedActions('cancelled')).toEqual([]);
  });
});

describe('search plan', () => {
  it('splits terms and picks CJK bigrams for 2-character Chinese terms', () => {
    expect(planSearch('磁盘 空间不足 Disk')).toEqual({
      terms: ['磁盘', '空间不足', 'disk'],
      bigrams: ['磁盘'],
    });
    expect(planSearch('  ok ')).toEqual({ terms: ['ok'], bigrams: [] });
  });
  it('escapes LIKE wildcards', () => {
    expect(containsPattern('100%_x')).toBe('%100\\%\\_x%');
  });
});
