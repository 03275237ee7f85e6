import type { IncidentStatus } from '../../db/schema.ts';

/**
 * The incident state machine (iso20000-map §4.1): each action names the statuses it may start from
 * and the status it leads to. Escalation is an assignment to a group of the next tier.
 */
export const ACTIONS = {
  assign: { from: ['new', 'assigned', 'in_progress'], to: 'assigned' },
  start: { from: ['new', 'assigned'], to: 'in_progress' },
  pend: { from: ['in_progress'], to: 'pending' },
  resume: { from: ['pending'], to: 'in_progress' },
  resolve: { from: ['new', 'in_progress'], to: 'resolved' },
  reopen: { from: ['resolved'], to: 'in_progress' },
  close: { from: ['resolved'], to: 'closed' },
  escalate: { from: ['new', 'assigned', 'in_progress'], to: 'assigned' },
  cancel: { from: ['new', 'assigned', 'in_progress', 'pending'], to: 'cancelled' },
} as const satisfies Record<string, { from: readonly IncidentStatus[]; to: IncidentStatus }>;

export type IncidentAction = keyof typeof ACTIONS;

export const OPEN_STATUSES: readonly IncidentStatus[] = ['new', 'assigned', 'in_progress', 'pending'];

export function canApply(action: IncidentAction, status: IncidentStatus): boolean {
  return (ACTIONS[action].from as readonly IncidentStatus[]).includes(status);
}

/** The actions a ticket in `status` allows, in a stable order (for 409 answers and clients). */
export function allowedActions(status: IncidentStatus): IncidentAction[] {
  return (Object.keys(ACTIONS) as IncidentAction[]).filter((action) => canApply(action, status));
}
