import { type Kysely, sql } from 'kysely';
import { columnTypes, strict } from '../src/db/migrate.ts';

export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  const table = (name: string) => strict(db, db.schema.createTable(name));

  await table('organisations')
    .addColumn('code', t.text, (c) => c.primaryKey())
    .addColumn('name', t.text, (c) => c.notNull())
    .addColumn('kind', t.text, (c) => c.notNull())
    .addColumn('place_code', t.text)
    .addColumn('department_code', t.text)
    .addColumn('gss_code', t.text)
    .addColumn('details', t.text, (c) => c.notNull())
    .execute();

  await table('places')
    .addColumn('code', t.text, (c) => c.primaryKey())
    .addColumn('name', t.text, (c) => c.notNull())
    .addColumn('region', t.text)
    .addColumn('theme_codes', t.text, (c) => c.notNull())
    .execute();

  await table('themes')
    .addColumn('code', t.text, (c) => c.primaryKey())
    .addColumn('name', t.text, (c) => c.notNull())
    .addColumn('description', t.text)
    .execute();

  await table('users')
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('name', t.text, (c) => c.notNull())
    .addColumn('role', t.text, (c) => c.notNull())
    .addColumn('organisation_code', t.text, (c) => c.references('organisations.code'))
    .addColumn('is_chair', t.int32, (c) => c.notNull().defaultTo(0))
    .addColumn('token_hash', t.text, (c) => c.notNull().unique())
    .addColumn('created_at', t.text, (c) => c.notNull())
    .addColumn('created_by', t.text)
    .execute();

  await table('financial_years')
    .addColumn('name', t.text, (c) => c.primaryKey())
    .addColumn('starts_on', t.text, (c) => c.notNull())
    .addColumn('ends_on', t.text, (c) => c.notNull())
    .addColumn('status', t.text, (c) => c.notNull())
    .addColumn('created_at', t.text, (c) => c.notNull())
    .execute();

  await table('department_years')
    .addColumn('financial_year', t.text, (c) => c.notNull().references('financial_years.name'))
    .addColumn('department_code', t.text, (c) => c.notNull().references('organisations.code'))
    .addColumn('baseline_pence', t.int64, (c) => c.notNull())
    .addColumn('top_slice_basis_points', t.int32, (c) => c.notNull())
    .addColumn('savings_target_pence', t.int64, (c) => c.notNull())
    .addColumn('revision', t.int32, (c) => c.notNull())
    .addColumn('updated_at', t.text, (c) => c.notNull())
    .addPrimaryKeyConstraint('department_years_pk', ['financial_year', 'department_code'])
    .execute();

  await table('accounts')
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('ledger', t.text, (c) => c.notNull())
    .addColumn('kind', t.text, (c) => c.notNull())
    .addColumn('organisation_code', t.text)
    .addColumn('financial_year', t.text)
    .addColumn('flags', t.int32, (c) => c.notNull())
    .addColumn('debits_pending', t.int64, (c) => c.notNull())
    .addColumn('debits_posted', t.int64, (c) => c.notNull())
    .addColumn('credits_pending', t.int64, (c) => c.notNull())
    .addColumn('credits_posted', t.int64, (c) => c.notNull())
    .addColumn('created_at', t.text, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('accounts_by_organisation').on('accounts').columns(['organisation_code']).execute();

  // Transfers are never updated or deleted: `seq` orders them in commit order; `id` is the
  // client's key. SQLite writers are serialised, so its rowid is commit order; PostgreSQL
  // writers take `seq` from `ledger_head`, whose row lock they hold until they commit.
  await table('transfers')
    .addColumn('seq', t.int64, (c) => c.primaryKey())
    .addColumn('id', t.text, (c) => c.notNull().unique())
    .addColumn('debit_account_id', t.text, (c) => c.notNull().references('accounts.id'))
    .addColumn('credit_account_id', t.text, (c) => c.notNull().references('accounts.id'))
    .addColumn('amount', t.int64, (c) => c.notNull())
    .addColumn('ledger', t.text, (c) => c.notNull())
    .addColumn('code', t.text, (c) => c.notNull())
    .addColumn('flags', t.int32, (c) => c.notNull())
    .addColumn('pending_id', t.text)
    .addColumn('timeout_seconds', t.int32, (c) => c.notNull())
    .addColumn('reference', t.text)
    .addColumn('fingerprint', t.text, (c) => c.notNull())
    .addColumn('created_at', t.text, (c) => c.notNull())
    .addColumn('debit_account_debits_pending', t.int64, (c) => c.notNull())
    .addColumn('debit_account_debits_posted', t.int64, (c) => c.notNull())
    .addColumn('debit_account_credits_pending', t.int64, (c) => c.notNull())
    .addColumn('debit_account_credits_posted', t.int64, (c) => c.notNull())
    .addColumn('credit_account_debits_pending', t.int64, (c) => c.notNull())
    .addColumn('credit_account_debits_posted', t.int64, (c) => c.notNull())
    .addColumn('credit_account_credits_pending', t.int64, (c) => c.notNull())
    .addColumn('credit_account_credits_posted', t.int64, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('transfers_by_debit_account').on('transfers').columns(['debit_account_id', 'seq']).execute();
  await db.schema.createIndex('transfers_by_credit_account').on('transfers').columns(['credit_account_id', 'seq']).execute();
  // A pending transfer is resolved (posted or voided) at most once.
  await db.schema
    .createIndex('transfers_resolve_pending_once')
    .on('transfers')
    .column('pending_id')
    .unique()
    .where('pending_id', 'is not', null)
    .execute();

  await table('ledger_head')
    .addColumn('id', t.int32, (c) => c.primaryKey())
    .addColumn('seq', t.int64, (c) => c.notNull())
    .execute();
  await (db as Kysely<{ ledger_head: { id: number; seq: number } }>).insertInto('ledger_head').values({ id: 1, seq: 0 }).execute();

  // The one mutable part of a pending transfer: whether it is still pending.
  await table('pending_transfers')
    .addColumn('id', t.text, (c) => c.primaryKey().references('transfers.id'))
    .addColumn('debit_account_id', t.text, (c) => c.notNull())
    .addColumn('credit_account_id', t.text, (c) => c.notNull())
    .addColumn('amount', t.int64, (c) => c.notNull())
    .addColumn('expires_at', t.text)
    .addColumn('status', t.text, (c) => c.notNull())
    .addColumn('resolved_by', t.text)
    .addColumn('resolved_at', t.text)
    .execute();
  await db.schema
    .createIndex('pending_transfers_due')
    .on('pending_transfers')
    .column('expires_at')
    .where(sql.ref('status'), '=', 'pending')
    .execute();

  await table('transfer_failures')
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('error', t.text, (c) => c.notNull())
    .addColumn('fingerprint', t.text, (c) => c.notNull())
    .addColumn('created_at', t.text, (c) => c.notNull())
    .execute();

  await table('audit_log')
    .addColumn('position', t.int64, (c) => c.primaryKey())
    .addColumn('at', t.text, (c) => c.notNull())
    .addColumn('actor_user_id', t.text)
    .addColumn('actor_role', t.text, (c) => c.notNull())
    .addColumn('action', t.text, (c) => c.notNull())
    .addColumn('subject', t.text, (c) => c.notNull())
    .addColumn('detail', t.text, (c) => c.notNull())
    .addColumn('request_id', t.text)
    .addColumn('prev_hash', t.text, (c) => c.notNull())
    .addColumn('hash', t.text, (c) => c.notNull())
    .execute();

  // The chain's head: appending takes this row's lock, so appends are serialised on every
  // engine, and a deleted last entry no longer matches it.
  await table('audit_head')
    .addColumn('id', t.int32, (c) => c.primaryKey())
    .addColumn('position', t.int64, (c) => c.notNull())
    .addColumn('hash', t.text, (c) => c.notNull())
    .execute();
  await (db as Kysely<{ audit_head: { id: number; position: number; hash: string } }>)
    .insertInto('audit_head')
    .values({ id: 1, position: 0, hash: '0'.repeat(64) })
    .execute();

  await table('idempotency_keys')
    .addColumn('user_id', t.text, (c) => c.notNull())
    .addColumn('key', t.text, (c) => c.notNull())
    .addColumn('fingerprint', t.text, (c) => c.notNull())
    .addColumn('state', t.text, (c) => c.notNull())
    .addColumn('status_code', t.int32)
    .addColumn('response_body', t.text)
    .addColumn('content_type', t.text)
    .addColumn('created_at', t.text, (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_keys_pk', ['user_id', 'key'])
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('The foundation migration cannot be reverted: the ledger is append-only.');
}
