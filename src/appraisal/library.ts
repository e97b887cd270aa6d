import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Db, Tx } from '../db/database.ts';
import { refuse } from '../lib/refusals.ts';
import { FIXTURES_DIR } from '../reference/reference.ts';
import { parseDeflatorTable, parseParameterSet } from './engine.ts';
import { APPRAISAL_REFUSALS } from './refusals.ts';
import type { DeflatorTable, ParameterSet } from './types.ts';

/*
 * Appraisal parameter sets and GDP deflator tables are data: loaded from fixtures/appraisal/
 * into the database at start-up and never changed once there. An appraisal records the set
 * (name + version) and the deflator edition it used, so it can be recomputed exactly later; a
 * corrected set must be published as a new version.
 */

const DIR = join(FIXTURES_DIR, 'appraisal');

export async function loadAppraisalLibrary(db: Db, dir = DIR): Promise<void> {
  const sets = (JSON.parse(readFileSync(join(dir, 'parameter-sets.json'), 'utf8')) as unknown[]).map(parseParameterSet);
  const deflators = parseDeflatorTable(JSON.parse(readFileSync(join(dir, 'gdp-deflators.json'), 'utf8')));
  const now = new Date().toISOString();
  await db.transaction().execute(async (trx) => {
    for (const set of sets) {
      const definition = JSON.stringify(set);
      const row = await trx
        .selectFrom('appraisal_parameter_sets')
        .select('definition')
        .where('name', '=', set.name)
        .where('version', '=', set.version)
        .executeTakeFirst();
      if (row && row.definition !== definition) {
        throw new Error(
          `Appraisal parameter set ${set.name} ${set.version} in fixtures differs from the one already used. Publish the change as a new version.`,
        );
      }
      if (!row) {
        await trx
          .insertInto('appraisal_parameter_sets')
          .values({ name: set.name, version: set.version, provisional: set.provisional ? 1 : 0, definition, loaded_at: now })
          .execute();
      }
    }
    const definition = JSON.stringify(deflators);
    const row = await trx.selectFrom('deflator_tables').select('definition').where('edition', '=', deflators.edition).executeTakeFirst();
    if (row && row.definition !== definition) {
      throw new Error(
        `GDP deflator edition "${deflators.edition}" in fixtures differs from the one already used. Publish it as a new edition.`,
      );
    }
    if (!row) await trx.insertInto('deflator_tables').values({ edition: deflators.edition, definition, loaded_at: now }).execute();
  });
}

export async function listParameterSets(db: Db | Tx): Promise<ParameterSet[]> {
  const rows = await db.selectFrom('appraisal_parameter_sets').select('definition').orderBy('name').orderBy('version').execute();
  return rows.map((r) => JSON.parse(r.definition) as ParameterSet);
}

// Stored sets never change, so each is parsed once per process: the engine's compiled
// discounting is cached per parameter-set object, and this keeps it warm.
const parsedSets = new Map<string, ParameterSet>();

export async function getParameterSet(db: Db | Tx, name: string, version: string): Promise<ParameterSet> {
  const key = `${name}@${version}`;
  const cached = parsedSets.get(key);
  if (cached) return cached;
  const row = await db
    .selectFrom('appraisal_parameter_sets')
    .select('definition')
    .where('name', '=', name)
    .where('version', '=', version)
    .executeTakeFirst();
  if (!row) throw refuse(APPRAISAL_REFUSALS, 'parameter-set-not-found', `There is no appraisal parameter set ${name} version ${version}.`);
  const set = JSON.parse(row.definition) as ParameterSet;
  parsedSets.set(key, set);
  return set;
}

/** The newest version of each set is the default for new rounds. */
export async function latestParameterSet(db: Db | Tx): Promise<ParameterSet> {
  const sets = await listParameterSets(db);
  const last = sets.at(-1);
  if (!last) throw new Error('No appraisal parameter set is loaded: check fixtures/appraisal/.');
  return last;
}

const parsedDeflators = new Map<string, DeflatorTable>();

export async function getDeflatorTable(db: Db | Tx, edition: string | null): Promise<DeflatorTable | null> {
  if (edition === null) return null;
  const cached = parsedDeflators.get(edition);
  if (cached) return cached;
  const row = await db.selectFrom('deflator_tables').select('definition').where('edition', '=', edition).executeTakeFirst();
  if (!row) return null;
  const table = JSON.parse(row.definition) as DeflatorTable;
  parsedDeflators.set(edition, table);
  return table;
}

export async function latestDeflatorEdition(db: Db | Tx): Promise<string | null> {
  const row = await db
    .selectFrom('deflator_tables')
    .select('edition')
    .orderBy('loaded_at', 'desc')
    .orderBy('edition', 'desc')
    .executeTakeFirst();
  return row?.edition ?? null;
}
