import type { Level, Priority } from '../../db/schema.ts';

/** Impact (rows) x urgency (columns) -> priority. Configurable in the incident settings. */
export type PriorityMatrix = Record<Level, Record<Level, Priority>>;

export const LEVELS: readonly Level[] = ['high', 'medium', 'low'];
export const PRIORITIES: readonly Priority[] = ['P1', 'P2', 'P3', 'P4', 'P5'];

/** The usual ITIL 3x3 matrix with five priorities. */
export const DEFAULT_MATRIX: PriorityMatrix = {
  high: { high: 'P1', medium: 'P2', low: 'P3' },
  medium: { high: 'P2', medium: 'P3', low: 'P4' },
  low: { high: 'P3', medium: 'P4', low: 'P5' },
};

export function priorityOf(matrix: PriorityMatrix, impact: Level, urgency: Level): Priority {
  return matrix[impact]?.[urgency] ?? DEFAULT_MATRIX[impact][urgency];
}

/** Cells missing or holding something other than P1..P5 (empty when the matrix is complete). */
export function matrixProblems(matrix: Record<string, Record<string, string>>): string[] {
  const problems: string[] = [];
  for (const impact of LEVELS) {
    for (const urgency of LEVELS) {
      const cell = matrix[impact]?.[urgency];
      if (!cell || !PRIORITIES.includes(cell as Priority)) problems.push(`/${impact}/${urgency}`);
    }
  }
  return problems;
}

/** P1 is the highest; `raise('P3')` is `P2`, and P1 stays P1. */
export function raise(priority: Priority): Priority {
  return PRIORITIES[Math.max(0, PRIORITIES.indexOf(priority) - 1)]!;
}
