import { loadAppraisalLibrary } from '../appraisal/library.ts';
import type { DatabaseConfig } from '../config.ts';
import { loadReferenceData } from '../reference/reference.ts';
import { loadUnitCosts } from '../unit-costs/unit-costs.ts';
import { type Database, openDatabase } from './database.ts';
import { migrateToLatest } from './migrate.ts';

/**
 * Opens the database, runs pending migrations and loads the reference fixtures, unit costs and
 * appraisal parameters: what start-up needs. `at` is when the reference load is audited (now,
 * unless a data set played on a simulated clock starts earlier).
 */
export async function prepareDatabase(config: DatabaseConfig, at = new Date()): Promise<Database> {
  const database = await openDatabase(config);
  try {
    await migrateToLatest(database.db, { schema: database.schema });
    await loadReferenceData(database.db, undefined, at);
    await loadUnitCosts(database.db);
    await loadAppraisalLibrary(database.db);
    return database;
  } catch (error) {
    await database.close();
    throw error;
  }
}
