import { type Kysely, sql } from 'kysely';

/**
 * Indexes for the reports module's read-only queries (src/modules/reports/reports.sources.ts) on
 * tables other modules own: one month of one customer's SLA clocks (by start and by breach) and the
 * call-backs answered in a period. Each is small against its table and none covers a column that
 * changes often (HOT updates of clocks are unaffected). Named `reports_*` so their purpose is clear.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE INDEX reports_sla_clocks_customer_started_idx ON sla_clocks (customer_id, started_at);
    CREATE INDEX reports_sla_clocks_customer_breached_idx ON sla_clocks (customer_id, breached_at)
      WHERE breached_at IS NOT NULL;
    CREATE INDEX reports_incident_confirmations_answered_idx ON incident_confirmations (answered_at)
      WHERE answered_at IS NOT NULL;
  `.execute(db);
}
