/** Who is acting, and for which customer (if the key is bound to one). */
export const ROLES = ['admin', 'manager', 'agent', 'requester', 'integration'] as const;
export type Role = (typeof ROLES)[number];

export interface Actor {
  keyId: string | null;
  name: string;
  role: Role;
  /** Set when the key is bound to one customer: it sees and changes only that customer's records. */
  customerId: string | null;
}

/** What a service needs to know about the request it serves. */
export interface RequestContext {
  actor: Actor;
  requestId: string | null;
}

/** The actor of scheduled jobs and other work the system does on its own. */
export const systemActor: Actor = { keyId: null, name: 'system', role: 'admin', customerId: null };
export const systemContext: RequestContext = { actor: systemActor, requestId: null };

/** The customer a query must be limited to, or null for keys that see every customer. */
export interface Scope {
  customerId: string | null;
}

export const scopeOf = (ctx: RequestContext): Scope => ({ customerId: ctx.actor.customerId });
export const unscoped: Scope = { customerId: null };
