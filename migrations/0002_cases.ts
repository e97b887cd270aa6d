import type { Kysely } from 'kysely';
import { columnTypes, strict } from '../src/db/migrate.ts';

/** Business cases, their appraisal, funding rounds and the panel (issue: cases, appraisal, scoring). */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  const table = (name: string) => strict(db, db.schema.createTable(name));

  // Versioned, immutable once loaded: an appraisal names the set and version it used.
  await table('appraisal_parameter_sets')
    .addColumn('name', t.text, (c) => c.notNull())
    .addColumn('version', t.text, (c) => c.notNull())
    .addColumn('provisional', t.int32, (c) => c.notNull())
    .addColumn('definition', t.text, (c) => c.notNull())
    .addColumn('loaded_at', t.text, (c) => c.notNull())
    .addPrimaryKeyConstraint('appraisal_parameter_sets_pk', ['name', 'version'])
    .execute();

  await table('deflator_tables')
    .addColumn('edition', t.text, (c) => c.primaryKey())
    .addColumn('definition', t.text, (c) => c.notNull())
    .addColumn('loaded_at', t.text, (c) => c.notNull())
    .execute();

  await table('unit_costs')
    .addColumn('code', t.text, (c) => c.primaryKey())
    .addColumn('sheet', t.text)
    .addColumn('category', t.text)
    .addColumn('detail', t.text)
    .addColumn('description', t.text, (c) => c.notNull())
    .addColumn('unit', t.text)
    .addColumn('value_pence', t.int64)
    .addColumn('agency', t.text)
    .addColumn('agency_detail', t.text)
    .addColumn('price_year', t.text)
    .addColumn('department_code', t.text)
    .addColumn('search_text', t.text, (c) => c.notNull())
    .execute();

  await table('funding_rounds')
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('financial_year', t.text, (c) => c.notNull().references('financial_years.name'))
    .addColumn('name', t.text, (c) => c.notNull())
    .addColumn('envelope_pence', t.int64, (c) => c.notNull())
    .addColumn('opens_on', t.text, (c) => c.notNull())
    .addColumn('closes_on', t.text, (c) => c.notNull())
    .addColumn('min_match_funding_basis_points', t.int32, (c) => c.notNull())
    .addColumn('themes', t.text, (c) => c.notNull())
    .addColumn('quorum', t.int32, (c) => c.notNull())
    .addColumn('criteria', t.text, (c) => c.notNull())
    .addColumn('parameter_set_name', t.text, (c) => c.notNull())
    .addColumn('parameter_set_version', t.text, (c) => c.notNull())
    .addColumn('deflator_edition', t.text)
    .addColumn('created_at', t.text, (c) => c.notNull())
    .addColumn('created_by', t.text, (c) => c.notNull())
    .execute();

  await table('cases')
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('reference', t.text, (c) => c.notNull().unique())
    .addColumn('round_id', t.text, (c) => c.notNull().references('funding_rounds.id'))
    .addColumn('lead_council_code', t.text, (c) => c.notNull().references('organisations.code'))
    .addColumn('status', t.text, (c) => c.notNull())
    .addColumn('revision', t.int32, (c) => c.notNull())
    .addColumn('document', t.text, (c) => c.notNull())
    .addColumn('created_at', t.text, (c) => c.notNull())
    .addColumn('created_by', t.text, (c) => c.notNull())
    .addColumn('updated_at', t.text, (c) => c.notNull())
    .addColumn('submitted_at', t.text)
    .addColumn('submitted_by', t.text)
    .execute();
  await db.schema.createIndex('cases_by_round').on('cases').columns(['round_id', 'status']).execute();
  await db.schema.createIndex('cases_by_lead').on('cases').column('lead_council_code').execute();

  // Which organisations a case names as beneficiaries (and their departments), for who may read it.
  await table('case_beneficiaries')
    .addColumn('case_id', t.text, (c) => c.notNull().references('cases.id'))
    .addColumn('organisation_code', t.text, (c) => c.notNull())
    .addPrimaryKeyConstraint('case_beneficiaries_pk', ['case_id', 'organisation_code'])
    .execute();

  // The appraisal stored at submission: recomputing it from its inputs gives the same figures.
  await table('appraisals')
    .addColumn('case_id', t.text, (c) => c.notNull().references('cases.id'))
    .addColumn('revision', t.int32, (c) => c.notNull())
    .addColumn('parameter_set_name', t.text, (c) => c.notNull())
    .addColumn('parameter_set_version', t.text, (c) => c.notNull())
    .addColumn('deflator_edition', t.text)
    .addColumn('result', t.text, (c) => c.notNull())
    .addColumn('computed_at', t.text, (c) => c.notNull())
    .addPrimaryKeyConstraint('appraisals_pk', ['case_id', 'revision'])
    .execute();

  await table('panel_conflicts')
    .addColumn('case_id', t.text, (c) => c.notNull().references('cases.id'))
    .addColumn('user_id', t.text, (c) => c.notNull().references('users.id'))
    .addColumn('reason', t.text, (c) => c.notNull())
    .addColumn('declared_at', t.text, (c) => c.notNull())
    .addPrimaryKeyConstraint('panel_conflicts_pk', ['case_id', 'user_id'])
    .execute();

  await table('panel_scores')
    .addColumn('case_id', t.text, (c) => c.notNull().references('cases.id'))
    .addColumn('user_id', t.text, (c) => c.notNull().references('users.id'))
    .addColumn('criterion', t.text, (c) => c.notNull())
    .addColumn('score', t.int32, (c) => c.notNull())
    .addColumn('justification', t.text, (c) => c.notNull())
    .addColumn('scored_at', t.text, (c) => c.notNull())
    .addPrimaryKeyConstraint('panel_scores_pk', ['case_id', 'user_id', 'criterion'])
    .execute();

  await table('panel_moderations')
    .addColumn('case_id', t.text, (c) => c.primaryKey().references('cases.id'))
    .addColumn('score_hundredths', t.int32, (c) => c.notNull())
    .addColumn('reason', t.text, (c) => c.notNull())
    .addColumn('moderated_by', t.text, (c) => c.notNull())
    .addColumn('moderated_at', t.text, (c) => c.notNull())
    .execute();

  await table('vfm_overrides')
    .addColumn('case_id', t.text, (c) => c.primaryKey().references('cases.id'))
    .addColumn('reason', t.text, (c) => c.notNull())
    .addColumn('granted_by', t.text, (c) => c.notNull())
    .addColumn('granted_at', t.text, (c) => c.notNull())
    .execute();

  await table('case_decisions')
    .addColumn('case_id', t.text, (c) => c.notNull().references('cases.id'))
    .addColumn('sequence', t.int32, (c) => c.notNull())
    .addColumn('outcome', t.text, (c) => c.notNull())
    .addColumn('reasons', t.text, (c) => c.notNull())
    .addColumn('amount_pence', t.int64)
    .addColumn('conditions', t.text, (c) => c.notNull())
    .addColumn('tranches', t.text, (c) => c.notNull())
    .addColumn('decided_by', t.text, (c) => c.notNull())
    .addColumn('decided_at', t.text, (c) => c.notNull())
    .addPrimaryKeyConstraint('case_decisions_pk', ['case_id', 'sequence'])
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('Cases and their decisions are part of the audit trail and cannot be dropped.');
}
