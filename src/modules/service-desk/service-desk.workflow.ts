/**
 * The state machines of service requests and knowledge articles: pure functions, no I/O.
 *
 * Service request: submitted -> approved | rejected (when the item needs approval) -> in_fulfilment
 * -> fulfilled -> closed; submitted -> in_fulfilment directly (`start`) when it needs none; any open
 * status (submitted, approved, in_fulfilment) -> cancelled.
 */
export const REQUEST_STATUSES = [
  'submitted',
  'approved',
  'rejected',
  'in_fulfilment',
  'fulfilled',
  'closed',
  'cancelled',
] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

export const REQUEST_ACTIONS = ['approve', 'reject', 'start', 'fulfil', 'close', 'cancel'] as const;
export type RequestAction = (typeof REQUEST_ACTIONS)[number];

/** Where each action leads. */
export const REQUEST_ACTION_TARGET: Record<RequestAction, RequestStatus> = {
  approve: 'approved',
  reject: 'rejected',
  start: 'in_fulfilment',
  fulfil: 'fulfilled',
  close: 'closed',
  cancel: 'cancelled',
};

/** Open statuses: work is still expected; a request may be cancelled from these. */
export const OPEN_REQUEST_STATUSES: readonly RequestStatus[] = ['submitted', 'approved', 'in_fulfilment'];

/** The actions a request in `status` allows, in a stable order. */
export function requestActions(status: RequestStatus, approvalRequired: boolean): RequestAction[] {
  switch (status) {
    case 'submitted':
      return approvalRequired ? ['approve', 'reject', 'cancel'] : ['start', 'cancel'];
    case 'approved':
      return ['start', 'cancel'];
    case 'in_fulfilment':
      return ['fulfil', 'cancel'];
    case 'fulfilled':
      return ['close'];
    case 'rejected':
    case 'closed':
    case 'cancelled':
      return [];
  }
}

export type TransitionCheck =
  | { ok: true; to: RequestStatus }
  | { ok: false; reason: 'not_allowed' | 'approval_not_required'; allowed: RequestAction[] };

/** Whether `action` may be taken on a request in `status`, and where it leads. */
export function checkRequestAction(
  status: RequestStatus,
  approvalRequired: boolean,
  action: RequestAction,
): TransitionCheck {
  const allowed = requestActions(status, approvalRequired);
  if (allowed.includes(action)) return { ok: true, to: REQUEST_ACTION_TARGET[action] };
  const decision = action === 'approve' || action === 'reject';
  return {
    ok: false,
    reason: decision && !approvalRequired ? 'approval_not_required' : 'not_allowed',
    allowed,
  };
}

/** Knowledge article: draft -> published -> retired. */
export const ARTICLE_STATUSES = ['draft', 'published', 'retired'] as const;
export type ArticleStatus = (typeof ARTICLE_STATUSES)[number];

export const ARTICLE_ACTIONS = ['publish', 'retire'] as const;
export type ArticleAction = (typeof ARTICLE_ACTIONS)[number];

export function articleActions(status: ArticleStatus): ArticleAction[] {
  switch (status) {
    case 'draft':
      return ['publish'];
    case 'published':
      return ['retire'];
    case 'retired':
      return [];
  }
}

export const ARTICLE_ACTION_TARGET: Record<ArticleAction, ArticleStatus> = {
  publish: 'published',
  retire: 'retired',
};
