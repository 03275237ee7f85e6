import { eventMatches } from '../../platform/jobs.ts';

/**
 * The domain-event families a webhook subscription may ask for. A module that emits a new family of
 * events adds its prefix here (the part before the dot), and its events become subscribable.
 * Subscriptions name exact types (`incident.resolved`), a family (`incident.*`) or everything (`*`).
 */
export const EVENT_FAMILIES: Record<string, string> = {
  customer: 'Customers: created, updated',
  person: 'People (agents, customer contacts): created, updated',
  group: 'Assignment groups: created, updated',
  service: 'Service catalogue: created, updated',
  agreement: 'SLA/OLA/UC agreements: created, changed',
  incident:
    'Incidents: created, updated, assigned, escalated, resolved, reopened, closed, cancelled, major_declared, confirmation_requested',
  sla: 'SLA clocks: warning, breached, escalation_notice',
  report: 'Service reports: generated',
  service_request: 'Service requests: created, updated, and their workflow steps',
  request_item: 'Request catalogue items: created, updated',
  knowledge_article: 'Knowledge articles: created, updated, linked, unlinked, ...',
  routing_rule: 'Routing rules: created, updated, deleted',
};

/** Events of the webhook machinery itself are never delivered (no loops through a receiver). */
export const isInternalEvent = (type: string) => type.startsWith('webhook_');

const PATTERN = /^(\*|[a-z][a-z0-9_]*\.(\*|[a-z][a-z0-9_]*))$/;
export const EVENT_TYPE_PATTERN = PATTERN.source;

/** Why a subscription's event pattern is not acceptable, or null. */
export function eventPatternProblem(pattern: string): string | null {
  if (!PATTERN.test(pattern)) return 'must be "*", "<family>.*" or "<family>.<event>" in lower case';
  if (pattern === '*') return null;
  const family = pattern.slice(0, pattern.indexOf('.'));
  if (!(family in EVENT_FAMILIES)) {
    return `unknown event family "${family}"; known: ${Object.keys(EVENT_FAMILIES).join(', ')}`;
  }
  return null;
}

/** Whether an event of `type` is wanted by a subscription with `patterns`. */
export function wants(patterns: readonly string[], type: string): boolean {
  return !isInternalEvent(type) && patterns.some((p) => eventMatches(p, type));
}
