import type { Config } from '../../config.ts';
import { type Database, inTransaction } from '../../db/db.ts';
import { writeAudit } from '../../platform/audit.ts';
import { type RequestContext, type Scope, scopeOf, unscoped } from '../../platform/context.ts';
import { checkVersion, type FieldError } from '../../platform/errors.ts';
import type { QueueRegistry } from '../../platform/jobs.ts';
import type { Logger } from '../../platform/logger.ts';
import { API_PREFIX } from '../../platform/module.ts';
import { emitEvent } from '../../platform/outbox.ts';
import type { Page } from '../../platform/paging.ts';
import { iso, isoOrNull } from '../../platform/schemas.ts';
import { customerVisible } from '../directory/index.ts';
import {
  PERIOD_EXAMPLES,
  type Period,
  type PeriodKind,
  parsePeriod,
  periodLabel,
  previousCompletePeriod,
  previousPeriods,
} from './period.ts';
import { renderCsv } from './render/csv.ts';
import type { ReportDocument } from './render/document.ts';
import { renderHtml } from './render/html.ts';
import { renderXlsx } from './render/xlsx.ts';
import { ReportErrors as E } from './reports.errors.ts';
import { createMailer } from './reports.mail.ts';
import * as repo from './reports.repository.ts';
import { createScheduler, cronProblem, isValidTimeZone, nextRun } from './reports.scheduler.ts';
import type {
  ReportDefinition,
  ReportDefinitionCreate,
  ReportDefinitionListQuery,
  ReportDefinitionPatch,
  ReportQuery,
  ReportRun,
  ReportRunSummary,
  RunListQuery,
} from './reports.schemas.ts';
import * as sources from './reports.sources.ts';
import { type ReportLocale, reportSections, type SectionContext } from './section.ts';

/** What a run keeps of its definition: the run is computed and rendered from this, not the live row. */
export interface DefinitionSnapshot {
  ref: string;
  name: string;
  customerId: string;
  serviceIds: string[];
  agreementIds: string[];
  period: PeriodKind;
  timeZone: string;
  locale: ReportLocale;
  sections: string[];
  recipients: { emails: string[]; webhookSubscriptionIds: string[] };
  agreedLevel: number;
  trendPeriods: number;
}

const DEFAULT_TIME_ZONE = 'Asia/Shanghai';
const SCHEDULER_ACTOR: RequestContext = {
  actor: { keyId: null, name: 'report scheduler', role: 'admin', customerId: null },
  requestId: null,
};

function effectiveSections(row: { sections: string[] | null }): string[] {
  return row.sections ?? reportSections.keys();
}

export function toDefinition(row: repo.DefinitionRow): ReportDefinition {
  const scheduled = row.active && row.cron !== null;
  return {
    id: row.id,
    ref: row.ref,
    name: row.name,
    description: row.description,
    customerId: row.customer_id,
    serviceIds: row.service_ids,
    agreementIds: row.agreement_ids,
    period: row.period,
    schedule: {
      cron: row.cron,
      timeZone: row.time_zone,
      nextRunAt: scheduled ? isoOrNull(nextRun(row.cron!, row.time_zone)) : null,
      synced: row.schedule_synced_version === row.version,
      error: row.schedule_error,
    },
    locale: row.locale,
    sections: effectiveSections(row),
    allSections: row.sections === null,
    recipients: {
      emails: row.recipients.emails ?? [],
      webhookSubscriptionIds: row.recipients.webhookSubscriptionIds ?? [],
    },
    agreedLevel: row.agreed_level,
    trendPeriods: row.trend_periods,
    active: row.active,
    version: row.version,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export function createReportService(deps: {
  db: Database;
  config: Pick<Config, 'SMTP_URL' | 'SMTP_FROM' | 'PUBLIC_URL'>;
  queues: QueueRegistry;
  log?: Logger;
}) {
  const { db, config, queues, log } = deps;
  const scheduler = createScheduler(queues);
  const base = `${config.PUBLIC_URL?.replace(/\/+$/, '') ?? ''}${API_PREFIX}`;

  // ---- definitions ---------------------------------------------------------------------------
  interface Checked {
    customerId: string;
    serviceIds: string[];
    agreementIds: string[];
    cron: string | null;
    timeZone: string;
    sections: string[] | null;
    webhookSubscriptionIds: string[];
  }

  /** Checks beyond shape; every problem at once, each with its pointer. */
  async function validate(scope: Scope, d: Checked): Promise<void> {
    const errors: FieldError[] = [];
    const bad = (pointer: string, detail: string) => errors.push({ in: 'body', pointer, detail });
    if (!isValidTimeZone(d.timeZone))
      bad('/schedule/timeZone', `unknown time zone '${d.timeZone}'; use an IANA name such as Asia/Shanghai`);
    if (d.cron !== null) {
      const problem = cronProblem(d.cron, d.timeZone);
      if (problem) bad('/schedule/cron', problem);
    }
    d.sections?.forEach((key, i) => {
      if (!reportSections.get(key))
        bad(`/sections/${i}`, `unknown section; known: ${reportSections.keys().join(', ')}`);
    });
    const [visible, services, agreements, subscriptions] = await Promise.all([
      customerVisible(db, scope, d.customerId),
      sources.existingServices(db, d.serviceIds),
      sources.agreementsOfCustomer(db, d.customerId, d.agreementIds),
      sources.existingSubscriptions(db, d.webhookSubscriptionIds),
    ]);
    if (!visible) bad('/customerId', `no customer ${d.customerId}`);
    d.serviceIds.forEach((id, i) => {
      if (!services.has(id)) bad(`/serviceIds/${i}`, `no service ${id}`);
    });
    d.agreementIds.forEach((id, i) => {
      if (!agreements.has(id)) bad(`/agreementIds/${i}`, `no SLA ${id} of this customer`);
    });
    d.webhookSubscriptionIds.forEach((id, i) => {
      if (!subscriptions.has(id))
        bad(`/recipients/webhookSubscriptionIds/${i}`, `no webhook subscription ${id}`);
    });
    if (errors.length > 0) throw E.invalid(errors);
  }

  /** After commit: make the job scheduler match; when Redis is unavailable the sync job catches up. */
  async function syncSchedule(row: repo.DefinitionRow): Promise<repo.DefinitionRow> {
    let error: string | null = null;
    try {
      await scheduler.apply(row);
    } catch (err) {
      error = `scheduler not updated: ${(err as Error).message}`;
      log?.warn(
        { definitionId: row.id, err: (err as Error).message },
        'report schedule not synced; will retry',
      );
    }
    await repo.markScheduleSynced(db, row.id, row.version, error);
    return (await repo.findDefinition(db, unscoped, row.id)) ?? row;
  }

  async function createDefinition(
    ctx: RequestContext,
    input: ReportDefinitionCreate,
  ): Promise<ReportDefinition> {
    const scope = scopeOf(ctx);
    const timeZone = input.schedule?.timeZone ?? DEFAULT_TIME_ZONE;
    const cron = input.schedule?.cron ?? null;
    await validate(scope, {
      customerId: input.customerId,
      serviceIds: input.serviceIds ?? [],
      agreementIds: input.agreementIds ?? [],
      cron,
      timeZone,
      sections: input.sections ?? null,
      webhookSubscriptionIds: input.recipients?.webhookSubscriptionIds ?? [],
    });
    const row = await inTransaction(db, async (trx) => {
      const inserted = await repo.insertDefinition(trx, {
        name: input.name,
        description: input.description ?? null,
        customer_id: input.customerId,
        service_ids: input.serviceIds ?? [],
        agreement_ids: input.agreementIds ?? [],
        period: input.period,
        cron,
        time_zone: timeZone,
        locale: input.locale ?? 'zh-CN',
        sections: input.sections ?? null,
        recipients: JSON.stringify({
          emails: input.recipients?.emails ?? [],
          webhookSubscriptionIds: input.recipients?.webhookSubscriptionIds ?? [],
        }),
        ...(input.agreedLevel !== undefined ? { agreed_level: input.agreedLevel } : {}),
        ...(input.trendPeriods !== undefined ? { trend_periods: input.trendPeriods } : {}),
        ...(input.active !== undefined ? { active: input.active } : {}),
        schedule_synced_version: null,
        schedule_error: null,
        deleted_at: null,
      });
      await writeAudit(trx, ctx, {
        action: 'report_definition.create',
        recordType: 'report_definition',
        recordId: inserted.id,
        customerId: inserted.customer_id,
        after: toDefinition(inserted),
      });
      return inserted;
    });
    return toDefinition(await syncSchedule(row));
  }

  async function getDefinition(ctx: RequestContext, id: string): Promise<ReportDefinition> {
    const row = await repo.findDefinition(db, scopeOf(ctx), id);
    if (!row) throw E.definitionNotFound(id);
    return toDefinition(row);
  }

  async function listDefinitions(
    ctx: RequestContext,
    query: ReportDefinitionListQuery,
  ): Promise<Page<ReportDefinition>> {
    const page = await repo.listDefinitions(db, scopeOf(ctx), query);
    return { items: page.items.map(toDefinition), nextCursor: page.nextCursor };
  }

  async function updateDefinition(
    ctx: RequestContext,
    id: string,
    patch: ReportDefinitionPatch,
    expected?: number,
  ): Promise<ReportDefinition> {
    const scope = scopeOf(ctx);
    const current = await repo.findDefinition(db, scope, id);
    if (!current) throw E.definitionNotFound(id);
    const timeZone = patch.schedule ? patch.schedule.timeZone : current.time_zone;
    const cron = patch.schedule ? (patch.schedule.cron ?? null) : current.cron;
    const recipients = patch.recipients
      ? {
          emails: patch.recipients.emails ?? [],
          webhookSubscriptionIds: patch.recipients.webhookSubscriptionIds ?? [],
        }
      : current.recipients;
    await validate(scope, {
      customerId: current.customer_id,
      serviceIds: patch.serviceIds ?? [],
      agreementIds: patch.agreementIds ?? [],
      cron,
      timeZone,
      sections: patch.sections ?? null,
      webhookSubscriptionIds: patch.recipients?.webhookSubscriptionIds ?? [],
    });
    const row = await inTransaction(db, async (trx) => {
      const before = await repo.lockDefinition(trx, scope, id);
      if (!before) throw E.definitionNotFound(id);
      checkVersion(before.version, expected);
      const after = await repo.updateDefinition(trx, scope, id, {
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        ...(patch.serviceIds !== undefined ? { service_ids: patch.serviceIds } : {}),
        ...(patch.agreementIds !== undefined ? { agreement_ids: patch.agreementIds } : {}),
        ...(patch.period !== undefined ? { period: patch.period } : {}),
        ...(patch.locale !== undefined ? { locale: patch.locale } : {}),
        ...(patch.sections !== undefined ? { sections: patch.sections } : {}),
        ...(patch.agreedLevel !== undefined ? { agreed_level: patch.agreedLevel } : {}),
        ...(patch.trendPeriods !== undefined ? { trend_periods: patch.trendPeriods } : {}),
        ...(patch.active !== undefined ? { active: patch.active } : {}),
        cron,
        time_zone: timeZone,
        recipients: JSON.stringify(recipients),
        schedule_synced_version: null,
      });
      await writeAudit(trx, ctx, {
        action: 'report_definition.update',
        recordType: 'report_definition',
        recordId: id,
        customerId: after.customer_id,
        before: toDefinition(before),
        after: toDefinition(after),
      });
      return after;
    });
    return toDefinition(await syncSchedule(row));
  }

  /** Removes the definition (its runs stay readable as records) and its job scheduler. */
  async function deleteDefinition(ctx: RequestContext, id: string, expected?: number): Promise<void> {
    const scope = scopeOf(ctx);
    const row = await inTransaction(db, async (trx) => {
      const before = await repo.lockDefinition(trx, scope, id);
      if (!before) throw E.definitionNotFound(id);
      checkVersion(before.version, expected);
      const after = await repo.updateDefinition(trx, scope, id, {
        deleted_at: new Date(),
        active: false,
        schedule_synced_version: null,
      });
      await writeAudit(trx, ctx, {
        action: 'report_definition.delete',
        recordType: 'report_definition',
        recordId: id,
        customerId: before.customer_id,
        before: toDefinition(before),
      });
      return after;
    });
    await syncSchedule(row);
  }

  // ---- runs ----------------------------------------------------------------------------------
  function snapshotOf(row: repo.DefinitionRow): DefinitionSnapshot {
    return {
      ref: row.ref,
      name: row.name,
      customerId: row.customer_id,
      serviceIds: row.service_ids,
      agreementIds: row.agreement_ids,
      period: row.period,
      timeZone: row.time_zone,
      locale: row.locale,
      sections: effectiveSections(row),
      recipients: {
        emails: row.recipients.emails ?? [],
        webhookSubscriptionIds: row.recipients.webhookSubscriptionIds ?? [],
      },
      agreedLevel: row.agreed_level,
      trendPeriods: row.trend_periods,
    };
  }

  const links = (run: Pick<repo.RunRow, 'id' | 'sections' | 'definition'>) => {
    const self = `${base}/reports/${run.id}`;
    const keys = run.sections
      ? Object.keys(run.sections)
      : (run.definition as unknown as DefinitionSnapshot).sections;
    return {
      json: self,
      html: `${self}?format=html`,
      xlsx: `${self}?format=xlsx`,
      csv: Object.fromEntries(keys.map((k) => [k, `${self}?format=csv&section=${encodeURIComponent(k)}`])),
    };
  };

  function toRunSummary(
    row: Omit<repo.RunRow, 'sections'> & { sections?: repo.RunRow['sections'] },
  ): ReportRunSummary {
    const snapshot = row.definition as unknown as DefinitionSnapshot;
    return {
      id: row.id,
      definitionId: row.definition_id,
      definitionRef: snapshot.ref,
      name: snapshot.name,
      customerId: row.customer_id,
      period: row.period,
      periodStart: iso(row.period_start),
      periodEnd: iso(row.period_end),
      timeZone: snapshot.timeZone,
      locale: snapshot.locale,
      revision: row.revision,
      current: row.current,
      status: row.status,
      trigger: row.trigger,
      requestedBy: row.requested_by,
      queuedAt: iso(row.queued_at),
      startedAt: isoOrNull(row.started_at),
      generatedAt: isoOrNull(row.generated_at),
      durationMs: row.duration_ms,
      error: row.error,
      email: {
        recipients: snapshot.recipients.emails,
        sentAt: isoOrNull(row.email_sent_at),
        error: row.email_error,
      },
      links: links({ id: row.id, sections: row.sections ?? null, definition: row.definition }),
    };
  }

  function toRun(row: repo.RunRow): ReportRun {
    return { ...toRunSummary(row), sections: row.status === 'completed' ? (row.sections ?? {}) : {} };
  }

  function periodOf(kind: PeriodKind, key: string, timeZone: string): Period {
    const period = parsePeriod(kind, key, timeZone);
    if (!period) throw E.badPeriod(key, kind, PERIOD_EXAMPLES[kind]);
    return period;
  }

  /** Adds the next revision of a period as its current run (queued), in one transaction with its audit entry. */
  async function addRun(
    ctx: RequestContext,
    scope: Scope,
    id: string,
    periodKey: string,
    trigger: 'manual' | 'schedule',
    onlyIfMissing = false,
  ): Promise<{ row: repo.RunRow; created: boolean }> {
    return inTransaction(db, async (trx) => {
      const def = await repo.lockDefinition(trx, scope, id);
      if (!def) throw E.definitionNotFound(id);
      const period = periodOf(def.period, periodKey, def.time_zone);
      if (onlyIfMissing) {
        const existing = await repo.currentRun(trx, def.id, period.key);
        if (existing) return { row: existing, created: false };
      }
      const revision = await repo.nextRevision(trx, def.id, period.key);
      const row = await repo.insertRun(trx, {
        definition_id: def.id,
        customer_id: def.customer_id,
        period: period.key,
        revision,
        current: true,
        status: 'queued',
        trigger,
        requested_by: ctx.actor.name,
        period_start: period.from,
        period_end: period.to,
        definition: JSON.stringify(snapshotOf(def)),
        sections: null,
        error: null,
        started_at: null,
        generated_at: null,
        duration_ms: null,
        email_sent_at: null,
        email_error: null,
      });
      await writeAudit(trx, ctx, {
        action: 'report_run.request',
        recordType: 'report_run',
        recordId: row.id,
        customerId: row.customer_id,
        after: { definitionId: def.id, period: period.key, revision, trigger },
      });
      return { row, created: true };
    });
  }

  /** `POST /report-definitions/{id}/run`: a new revision of the period, computed by the worker. */
  async function requestRun(ctx: RequestContext, id: string, periodKey: string) {
    const scope = scopeOf(ctx);
    const def = await repo.findDefinition(db, scope, id);
    if (!def) throw E.definitionNotFound(id);
    periodOf(def.period, periodKey, def.time_zone);
    const { row } = await addRun(ctx, scope, id, periodKey, 'manual');
    try {
      await scheduler.enqueueRun(row.id);
    } catch (err) {
      // The run stays queued; the sync job re-enqueues queued runs whose job never reached Redis.
      log?.warn({ runId: row.id, err: (err as Error).message }, 'report run not enqueued; the sync job will');
    }
    return {
      runId: row.id,
      definitionId: row.definition_id,
      period: row.period,
      revision: row.revision,
      status: row.status,
      location: `${API_PREFIX}/reports/${row.id}`,
    };
  }

  async function listRuns(
    ctx: RequestContext,
    id: string,
    query: RunListQuery,
  ): Promise<Page<ReportRunSummary>> {
    const def = await repo.findDefinition(db, scopeOf(ctx), id);
    if (!def) throw E.definitionNotFound(id);
    const page = await repo.listRuns(db, id, query);
    return { items: page.items.map((r) => toRunSummary(r)), nextCursor: page.nextCursor };
  }

  async function getRun(ctx: RequestContext, runId: string): Promise<ReportRun> {
    const row = await repo.findRun(db, scopeOf(ctx), runId);
    if (!row) throw E.runNotFound(runId);
    return toRun(row);
  }

  async function documentOf(row: repo.RunRow): Promise<ReportDocument> {
    const snapshot = row.definition as unknown as DefinitionSnapshot;
    const data = row.sections ?? {};
    const customer = await sources.customerName(db, row.customer_id);
    const scopeParts: string[] = [];
    const zh = snapshot.locale === 'zh-CN';
    if (snapshot.serviceIds.length > 0)
      scopeParts.push(`${zh ? '服务' : 'services'}: ${snapshot.serviceIds.length}`);
    if (snapshot.agreementIds.length > 0)
      scopeParts.push(`${zh ? '协议' : 'agreements'}: ${snapshot.agreementIds.length}`);
    return {
      runId: row.id,
      name: snapshot.name,
      definitionRef: snapshot.ref,
      customerName: customer ? `${customer.name} (${customer.code})` : row.customer_id,
      periodKey: row.period,
      periodLabel: periodLabel({ kind: snapshot.period, key: row.period }, snapshot.locale),
      from: row.period_start,
      to: row.period_end,
      timeZone: snapshot.timeZone,
      locale: snapshot.locale,
      revision: row.revision,
      generatedAt: row.generated_at,
      scopeNote: scopeParts.join(zh ? '；' : '; '),
      // In the definition's order; a section whose module is gone is left out of renderings.
      sections: [...new Set([...snapshot.sections, ...Object.keys(data)])].flatMap((key) => {
        const section = reportSections.get(key);
        return section && key in data ? [{ section, data: data[key] }] : [];
      }),
    };
  }

  /** A rendering of a completed run: HTML page, XLSX workbook, or one section table as CSV. */
  async function render(
    ctx: RequestContext,
    runId: string,
    query: ReportQuery,
  ): Promise<{ contentType: string; body: string | Buffer; filename: string }> {
    const row = await repo.findRun(db, scopeOf(ctx), runId);
    if (!row) throw E.runNotFound(runId);
    if (row.status !== 'completed') throw E.notReady(row.status);
    const doc = await documentOf(row);
    const stem = `${doc.definitionRef}-${row.period}-r${row.revision}`;
    switch (query.format) {
      case 'html':
        return {
          contentType: 'text/html; charset=utf-8',
          body: await renderHtml(doc),
          filename: `${stem}.html`,
        };
      case 'xlsx':
        return {
          contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
          body: await renderXlsx(doc),
          filename: `${stem}.xlsx`,
        };
      default: {
        const known = doc.sections.map((s) => s.section.key);
        if (!query.section) throw E.sectionRequired(known);
        const found = doc.sections.find((s) => s.section.key === query.section);
        if (!found) throw E.unknownSection(query.section, known);
        const tables = found.section.tables(found.data, doc.locale);
        const table = query.table ? tables.find((t) => t.name === query.table) : tables[0];
        if (!table)
          throw E.unknownTable(
            query.table ?? '',
            tables.map((t) => t.name),
          );
        return {
          contentType: 'text/csv; charset=utf-8',
          body: renderCsv(table),
          filename: `${stem}-${found.section.key}${query.table ? `-${table.name}` : ''}.csv`,
        };
      }
    }
  }

  // ---- the worker side -----------------------------------------------------------------------
  /**
   * Computes a run (idempotent: a completed run is left alone), stores its sections, emits
   * `report.generated` in the same transaction, then e-mails it when SMTP is configured.
   */
  async function executeRun(runId: string, now = new Date()) {
    const claimed = await repo.claimRun(db, runId);
    if (!claimed) {
      const row = await repo.findRun(db, unscoped, runId);
      if (row?.status === 'completed' && !row.email_sent_at) await mailRun(row);
      return { skipped: row ? row.status : 'gone', runId };
    }
    const started = Date.now();
    const snapshot = claimed.definition as unknown as DefinitionSnapshot;
    try {
      const period = periodOf(snapshot.period, claimed.period, snapshot.timeZone);
      const ctx: SectionContext = {
        db,
        scope: {
          customerId: snapshot.customerId,
          serviceIds: snapshot.serviceIds,
          agreementIds: snapshot.agreementIds,
        },
        period: { key: period.key, from: period.from, to: period.to },
        from: period.from,
        to: period.to,
        asOf: new Date(Math.min(period.to.getTime(), now.getTime())),
        previousPeriods: previousPeriods(period, snapshot.trendPeriods, snapshot.timeZone),
        locale: snapshot.locale,
        timeZone: snapshot.timeZone,
        agreedLevel: snapshot.agreedLevel,
      };
      // A section whose module is gone is skipped: the rest of the report still runs. Two sections
      // at a time (each runs its own queries in parallel): PostgreSQL keeps busy, the pool stays free.
      const keys = snapshot.sections.filter((key) => reportSections.get(key));
      const computed = new Map<string, unknown>();
      let next = 0;
      const lane = async () => {
        while (next < keys.length) {
          const key = keys[next++]!;
          try {
            computed.set(key, await reportSections.get(key)!.compute(ctx));
          } catch (err) {
            throw new Error(`section ${key}: ${(err as Error).message}`);
          }
        }
      };
      await Promise.all([lane(), lane()]);
      const sections: Record<string, unknown> = {};
      for (const key of keys) sections[key] = computed.get(key);
      const row = await inTransaction(db, async (trx) => {
        const done = await repo.completeRun(trx, runId, sections, Date.now() - started);
        const summary = toRunSummary(done);
        await emitEvent(trx, {
          type: 'report.generated',
          aggregateType: 'report_run',
          aggregateId: runId,
          customerId: done.customer_id,
          payload: {
            report: {
              runId,
              definitionId: done.definition_id,
              definitionRef: snapshot.ref,
              name: snapshot.name,
              period: done.period,
              periodStart: summary.periodStart,
              periodEnd: summary.periodEnd,
              revision: done.revision,
              trigger: done.trigger,
              generatedAt: summary.generatedAt,
              locale: snapshot.locale,
            },
            links: summary.links,
            recipients: { webhookSubscriptionIds: snapshot.recipients.webhookSubscriptionIds },
          },
        });
        return done;
      });
      await mailRun(row);
      return { runId, status: 'completed', durationMs: row.duration_ms };
    } catch (err) {
      await repo.failRun(db, runId, (err as Error).message);
      log?.warn({ runId, err: (err as Error).message }, 'report run failed');
      throw err;
    }
  }

  async function mailRun(row: repo.RunRow): Promise<void> {
    const snapshot = row.definition as unknown as DefinitionSnapshot;
    const mailer = createMailer(config);
    if (!mailer || snapshot.recipients.emails.length === 0) return;
    try {
      const doc = await documentOf(row);
      const html = await renderHtml(doc);
      const xlsx = await renderXlsx(doc);
      const stem = `${doc.definitionRef}-${row.period}`;
      const l = links(row);
      const zh = doc.locale === 'zh-CN';
      const subject = zh
        ? `【服务报告】${doc.name} ${doc.periodLabel}`
        : `[Service report] ${doc.name} — ${doc.periodLabel}`;
      const text = zh
        ? `${doc.customerName}：${doc.name}（${doc.periodLabel}）已生成，见附件。\n在线查看：${l.html}\nExcel：${l.xlsx}\n`
        : `${doc.name} for ${doc.customerName} (${doc.periodLabel}) is attached.\nOnline: ${l.html}\nExcel: ${l.xlsx}\n`;
      await mailer.send({
        to: snapshot.recipients.emails,
        subject,
        text,
        html,
        attachments: [
          { filename: `${stem}.html`, content: html, contentType: 'text/html; charset=utf-8' },
          {
            filename: `${stem}.xlsx`,
            content: xlsx,
            contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
          },
        ],
      });
      await repo.recordEmail(db, row.id, null);
    } catch (err) {
      log?.warn({ runId: row.id, err: (err as Error).message }, 'report e-mail not sent');
      await repo.recordEmail(db, row.id, (err as Error).message);
    }
  }

  /**
   * A scheduler firing at `firedAt`: the last complete period before it (in the definition's time
   * zone) gets a run unless it already has one (re-firings and retries do not add revisions); a
   * failed one is retried.
   */
  async function runScheduled(definitionId: string, firedAt = new Date()) {
    const def = await repo.findDefinition(db, unscoped, definitionId);
    if (!def) return { skipped: 'definition gone' };
    if (!def.active) return { skipped: 'definition inactive' };
    const period = previousCompletePeriod(def.period, firedAt, def.time_zone);
    const { row, created } = await addRun(SCHEDULER_ACTOR, unscoped, def.id, period.key, 'schedule', true);
    if (!created && row.status !== 'failed' && row.status !== 'queued')
      return { skipped: 'period already reported', runId: row.id, period: period.key };
    return { ...(await executeRun(row.id, firedAt)), period: period.key };
  }

  /** Periodic repair: schedulers match the definitions, and queued runs whose job was lost are enqueued again. */
  async function syncSchedules(now = new Date()) {
    const definitions = await repo.definitionsForSchedules(db);
    const result = await scheduler.reconcile(definitions);
    for (const d of definitions)
      if (d.schedule_synced_version !== d.version) await repo.markScheduleSynced(db, d.id, d.version, null);
    const stale = await repo.staleQueuedRuns(db, new Date(now.getTime() - 60_000), 500);
    for (const run of stale) await scheduler.enqueueRun(run.id);
    return { ...result, requeued: stale.length };
  }

  return {
    createDefinition,
    getDefinition,
    listDefinitions,
    updateDefinition,
    deleteDefinition,
    requestRun,
    listRuns,
    getRun,
    render,
    executeRun,
    runScheduled,
    syncSchedules,
  };
}

export type ReportService = ReturnType<typeof createReportService>;

export function listSections() {
  return reportSections.list().map((s) => ({ key: s.key, title: s.title, schema: s.schema }));
}
