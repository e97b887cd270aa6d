import type { Kysely } from 'kysely';
import { columnTypes, strict } from '../src/db/migrate.ts';

/** Year close, the savings-credits registry and market, compliance, pooled asset disposals. */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  const table = (name: string) => strict(db, db.schema.createTable(name));

  await table('year_closes')
    .addColumn('financial_year', t.text, (c) => c.primaryKey().references('financial_years.name'))
    .addColumn('closed_by', t.text, (c) => c.notNull())
    .addColumn('closed_at', t.text, (c) => c.notNull())
    .execute();

  // One row per department and closed year: what was set against what, and what it gave.
  await table('department_outcomes')
    .addColumn('financial_year', t.text, (c) => c.notNull())
    .addColumn('department_code', t.text, (c) => c.notNull())
    .addColumn('savings_target_pence', t.int64, (c) => c.notNull())
    .addColumn('verified_cashable_pence', t.int64, (c) => c.notNull())
    .addColumn('verified_other_pence', t.int64, (c) => c.notNull())
    .addColumn('credits_issued', t.int64, (c) => c.notNull())
    .addColumn('obligation_credits', t.int64, (c) => c.notNull())
    .addColumn('issuance_transfer_id', t.text)
    .addPrimaryKeyConstraint('department_outcomes_pk', ['financial_year', 'department_code'])
    .execute();

  // The verified reports behind each department's verified cashable savings at close.
  await table('credit_provenance')
    .addColumn('financial_year', t.text, (c) => c.notNull())
    .addColumn('department_code', t.text, (c) => c.notNull())
    .addColumn('report_id', t.text, (c) => c.notNull())
    .addColumn('case_id', t.text, (c) => c.notNull())
    .addColumn('case_reference', t.text, (c) => c.notNull())
    .addColumn('place_code', t.text, (c) => c.notNull())
    .addColumn('line_index', t.int32, (c) => c.notNull())
    .addColumn('verified_pence', t.int64, (c) => c.notNull())
    .addPrimaryKeyConstraint('credit_provenance_pk', ['financial_year', 'report_id'])
    .execute();
  await db.schema
    .createIndex('credit_provenance_by_department')
    .on('credit_provenance')
    .columns(['financial_year', 'department_code'])
    .execute();

  await table('credit_markets')
    .addColumn('financial_year', t.text, (c) => c.primaryKey().references('financial_years.name'))
    .addColumn('floor_pence', t.int64, (c) => c.notNull())
    .addColumn('ceiling_pence', t.int64, (c) => c.notNull())
    .addColumn('updated_by', t.text, (c) => c.notNull())
    .addColumn('updated_at', t.text, (c) => c.notNull())
    .execute();

  // Time priority: every order and trade takes the next number from here.
  await table('market_head')
    .addColumn('id', t.int32, (c) => c.primaryKey())
    .addColumn('seq', t.int64, (c) => c.notNull())
    .execute();
  await (db as Kysely<{ market_head: { id: number; seq: number } }>).insertInto('market_head').values({ id: 1, seq: 0 }).execute();

  await table('credit_orders')
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('seq', t.int64, (c) => c.notNull().unique())
    .addColumn('financial_year', t.text, (c) => c.notNull())
    .addColumn('department_code', t.text, (c) => c.notNull())
    .addColumn('side', t.text, (c) => c.notNull())
    .addColumn('vintage', t.text)
    .addColumn('quantity', t.int64, (c) => c.notNull())
    .addColumn('filled', t.int64, (c) => c.notNull())
    .addColumn('limit_price_pence', t.int64, (c) => c.notNull())
    .addColumn('status', t.text, (c) => c.notNull())
    .addColumn('reservation_id', t.text)
    .addColumn('reservations', t.int32, (c) => c.notNull())
    .addColumn('placed_by', t.text, (c) => c.notNull())
    .addColumn('placed_at', t.text, (c) => c.notNull())
    .addColumn('updated_at', t.text, (c) => c.notNull())
    .execute();
  // The book: the best resting order on a side is the first row of this index.
  await db.schema
    .createIndex('credit_orders_book')
    .on('credit_orders')
    .columns(['financial_year', 'side', 'status', 'limit_price_pence', 'seq'])
    .execute();
  await db.schema.createIndex('credit_orders_by_department').on('credit_orders').columns(['department_code', 'status']).execute();

  await table('credit_trades')
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('seq', t.int64, (c) => c.notNull().unique())
    .addColumn('financial_year', t.text, (c) => c.notNull())
    .addColumn('vintage', t.text, (c) => c.notNull())
    .addColumn('quantity', t.int64, (c) => c.notNull())
    .addColumn('price_pence', t.int64, (c) => c.notNull())
    .addColumn('buyer_code', t.text, (c) => c.notNull())
    .addColumn('seller_code', t.text, (c) => c.notNull())
    .addColumn('buy_order_id', t.text)
    .addColumn('sell_order_id', t.text)
    .addColumn('bilateral_id', t.text)
    .addColumn('credits_transfer_id', t.text, (c) => c.notNull())
    .addColumn('cash_transfer_id', t.text, (c) => c.notNull())
    .addColumn('executed_at', t.text, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('credit_trades_by_year').on('credit_trades').columns(['financial_year', 'seq']).execute();

  await table('bilateral_trades')
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('financial_year', t.text, (c) => c.notNull())
    .addColumn('proposer_code', t.text, (c) => c.notNull())
    .addColumn('counterparty_code', t.text, (c) => c.notNull())
    .addColumn('proposer_side', t.text, (c) => c.notNull())
    .addColumn('vintage', t.text, (c) => c.notNull())
    .addColumn('quantity', t.int64, (c) => c.notNull())
    .addColumn('price_pence', t.int64, (c) => c.notNull())
    .addColumn('status', t.text, (c) => c.notNull())
    .addColumn('expires_at', t.text, (c) => c.notNull())
    .addColumn('proposed_by', t.text, (c) => c.notNull())
    .addColumn('proposed_at', t.text, (c) => c.notNull())
    .addColumn('resolved_by', t.text)
    .addColumn('resolved_at', t.text)
    .addColumn('trade_id', t.text)
    .execute();

  await table('compliance_runs')
    .addColumn('financial_year', t.text, (c) => c.primaryKey().references('financial_years.name'))
    .addColumn('ran_by', t.text, (c) => c.notNull())
    .addColumn('ran_at', t.text, (c) => c.notNull())
    .addColumn('ceiling_pence', t.int64, (c) => c.notNull())
    .execute();

  await table('compliance_results')
    .addColumn('financial_year', t.text, (c) => c.notNull())
    .addColumn('department_code', t.text, (c) => c.notNull())
    .addColumn('obligation_credits', t.int64, (c) => c.notNull())
    .addColumn('surrendered', t.text, (c) => c.notNull()) // JSON [{vintage, credits, transferId}]
    .addColumn('surrendered_credits', t.int64, (c) => c.notNull())
    .addColumn('shortfall_credits', t.int64, (c) => c.notNull())
    .addColumn('buy_out_due_pence', t.int64, (c) => c.notNull())
    .addColumn('buy_out_paid_pence', t.int64, (c) => c.notNull())
    .addColumn('buy_out_outstanding_pence', t.int64, (c) => c.notNull())
    .addColumn('buy_out_transfer_id', t.text)
    .addColumn('status', t.text, (c) => c.notNull())
    .addPrimaryKeyConstraint('compliance_results_pk', ['financial_year', 'department_code'])
    .execute();

  await table('disposal_targets')
    .addColumn('place_code', t.text, (c) => c.notNull().references('places.code'))
    .addColumn('financial_year', t.text, (c) => c.notNull())
    .addColumn('department_code', t.text, (c) => c.notNull())
    .addColumn('target_pence', t.int64, (c) => c.notNull())
    .addColumn('set_by', t.text, (c) => c.notNull())
    .addColumn('set_at', t.text, (c) => c.notNull())
    .addPrimaryKeyConstraint('disposal_targets_pk', ['place_code', 'financial_year', 'department_code'])
    .execute();

  await table('disposals')
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('place_code', t.text, (c) => c.notNull().references('places.code'))
    .addColumn('financial_year', t.text, (c) => c.notNull())
    .addColumn('department_code', t.text, (c) => c.notNull())
    .addColumn('asset', t.text, (c) => c.notNull())
    .addColumn('receipt_pence', t.int64, (c) => c.notNull())
    .addColumn('disposed_on', t.text, (c) => c.notNull())
    .addColumn('recorded_by', t.text, (c) => c.notNull())
    .addColumn('recorded_at', t.text, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('disposals_by_place').on('disposals').columns(['place_code', 'financial_year']).execute();
}

export async function down(): Promise<void> {
  throw new Error('Migrations are forward-only.');
}
