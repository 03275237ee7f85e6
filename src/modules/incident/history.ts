/**
 * An incident's status history for SLA clocks, rebuilt from its timeline: the state at the report
 * time, then one state per change of status, pending reason, priority or group. Pure.
 */
export interface HistoryState {
  at: number;
  status: string;
  pendingReason: string | null;
  priority: string;
  groupId: string | null;
}

export interface IncidentHistory {
  ticketType: 'incident';
  ticketId: string;
  customerId: string;
  serviceId: string | null;
  reportedAt: number;
  acknowledgedAt: number | null;
  status: string;
  priority: string;
  groupId: string | null;
  states: HistoryState[];
}

interface TimelineRow {
  at: Date;
  type: string;
  data: Record<string, unknown>;
}

export function buildHistory(
  incident: {
    id: string;
    customer_id: string;
    service_id: string | null;
    reported_at: Date;
    acknowledged_at: Date | null;
    status: string;
    priority: string;
    group_id: string | null;
  },
  events: TimelineRow[],
): IncidentHistory {
  const created = events.find((e) => e.type === 'created');
  let state: HistoryState = {
    at: incident.reported_at.getTime(),
    status: 'new',
    pendingReason: null,
    priority: String(created?.data.priority ?? incident.priority),
    groupId: (created?.data.groupId as string | null | undefined) ?? null,
  };
  const states: HistoryState[] = [state];
  for (const event of events) {
    const next: HistoryState = { ...state, at: Math.max(event.at.getTime(), state.at) };
    if (event.type === 'status_changed') {
      next.status = String(event.data.to);
      next.pendingReason =
        next.status === 'pending' ? ((event.data.reason as string | undefined) ?? null) : null;
    } else if (event.type === 'priority_changed') {
      next.priority = String(event.data.to);
    } else if (event.type === 'assigned' || event.type === 'escalated') {
      next.groupId = (event.data.groupId as string | null | undefined) ?? null;
    } else {
      continue;
    }
    if (
      next.status === state.status &&
      next.pendingReason === state.pendingReason &&
      next.priority === state.priority &&
      next.groupId === state.groupId
    ) {
      continue;
    }
    if (next.at === state.at) states[states.length - 1] = next;
    else states.push(next);
    state = next;
  }
  return {
    ticketType: 'incident',
    ticketId: incident.id,
    customerId: incident.customer_id,
    serviceId: incident.service_id,
    reportedAt: incident.reported_at.getTime(),
    acknowledgedAt: incident.acknowledged_at?.getTime() ?? null,
    status: incident.status,
    priority: incident.priority,
    groupId: incident.group_id,
    states,
  };
}
