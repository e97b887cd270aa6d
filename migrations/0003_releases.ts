import type { Kysely } from 'kysely';
import { columnTypes, strict } from '../src/db/migrate.ts';

/** Releases in tranches, clawback and the benefits register (issue: releases and benefits). */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  const table = (name: string) => strict(db, db.schema.createTable(name));

  // Tranches above this need two distinct approvers.
  await db.schema
    .alterTable('funding_rounds')
    .addColumn('two_approver_threshold_pence', t.int64, (c) => c.notNull().defaultTo(100_000_000))
    .execute();

  await table('tranches')
    .addColumn('case_id', t.text, (c) => c.notNull().references('cases.id'))
    .addColumn('number', t.int32, (c) => c.notNull())
    .addColumn('amount_pence', t.int64, (c) => c.notNull())
    .addColumn('earliest_on', t.text, (c) => c.notNull())
    .addColumn('condition', t.text, (c) => c.notNull())
    .addColumn('status', t.text, (c) => c.notNull())
    .addColumn('pending_transfer_id', t.text, (c) => c.notNull())
    .addColumn('offset_pence', t.int64, (c) => c.notNull().defaultTo(0))
    .addColumn('claimed_by', t.text)
    .addColumn('claimed_at', t.text)
    .addColumn('evidence', t.text)
    .addColumn('released_pence', t.int64)
    .addColumn('released_at', t.text)
    .addColumn('voided_at', t.text)
    .addPrimaryKeyConstraint('tranches_pk', ['case_id', 'number'])
    .execute();

  await table('tranche_approvals')
    .addColumn('case_id', t.text, (c) => c.notNull())
    .addColumn('number', t.int32, (c) => c.notNull())
    .addColumn('user_id', t.text, (c) => c.notNull().references('users.id'))
    .addColumn('approved_at', t.text, (c) => c.notNull())
    .addPrimaryKeyConstraint('tranche_approvals_pk', ['case_id', 'number', 'user_id'])
    .execute();

  await table('clawbacks')
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('case_id', t.text, (c) => c.notNull().references('cases.id'))
    .addColumn('kind', t.text, (c) => c.notNull())
    .addColumn('amount_pence', t.int64, (c) => c.notNull())
    .addColumn('reason', t.text, (c) => c.notNull())
    .addColumn('tranche_number', t.int32)
    .addColumn('transfer_id', t.text)
    .addColumn('recorded_by', t.text, (c) => c.notNull())
    .addColumn('recorded_at', t.text, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('clawbacks_by_case').on('clawbacks').column('case_id').execute();

  await table('benefit_forecasts')
    .addColumn('case_id', t.text, (c) => c.notNull().references('cases.id'))
    .addColumn('line_index', t.int32, (c) => c.notNull())
    .addColumn('year', t.text, (c) => c.notNull())
    .addColumn('forecast_pence', t.int64, (c) => c.notNull())
    .addColumn('reason', t.text, (c) => c.notNull())
    .addColumn('revised_by', t.text, (c) => c.notNull())
    .addColumn('revised_at', t.text, (c) => c.notNull())
    .addPrimaryKeyConstraint('benefit_forecasts_pk', ['case_id', 'line_index', 'year'])
    .execute();

  await table('benefit_reports')
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('case_id', t.text, (c) => c.notNull().references('cases.id'))
    .addColumn('line_index', t.int32, (c) => c.notNull())
    .addColumn('year', t.text, (c) => c.notNull())
    .addColumn('beneficiary_code', t.text)
    .addColumn('claimed_pence', t.int64, (c) => c.notNull())
    .addColumn('evidence', t.text, (c) => c.notNull())
    .addColumn('status', t.text, (c) => c.notNull())
    .addColumn('reported_by', t.text, (c) => c.notNull())
    .addColumn('reported_at', t.text, (c) => c.notNull())
    .addColumn('verified_pence', t.int64)
    .addColumn('reviewed_by', t.text)
    .addColumn('reviewed_at', t.text)
    .addColumn('rejection_reason', t.text)
    .execute();
  await db.schema.createIndex('benefit_reports_by_case').on('benefit_reports').columns(['case_id', 'line_index', 'year']).execute();
}

export async function down(): Promise<void> {
  throw new Error('Releases and benefit reports are part of the audit trail and cannot be dropped.');
}
