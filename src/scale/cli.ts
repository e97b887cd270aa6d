import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { configureAuditKey, SYSTEM } from '../audit/audit.ts';
import { loadConfig } from '../config.ts';
import { inTransaction } from '../db/database.ts';
import { prepareDatabase } from '../db/prepare.ts';
import { FIRST_FINANCIAL_YEAR, LAST_FINANCIAL_YEAR, parseFinancialYear } from '../fund/fund.ts';
import { verifyLedger } from '../ledger/verify.ts';
import { createUser } from '../users/users.ts';
import { perYear, scaleClockStart, seedScale } from './seed.ts';

/*
 * npm run seed:scale -- --factor N [--years Y] [--last-year YYYY-YY] [--database PATH]
 * Builds the national-scale data set (src/scale/seed.ts) in a fresh SQLite file (default
 * data/scale-<factor>.db, replaced), or in the PostgreSQL database DATABASE_URL names (with
 * DATABASE_SCHEMA, a schema of its own), which must hold no financial year yet.
 */

const HELP = `npm run seed:scale -- [options]
  --factor N        cases per year = N × 100, benefit reports per year up to N × 2,000 (default 1)
  --years Y         financial years to play, ending with the year before today's (default 10)
  --last-year FY    the last year played instead (YYYY-YY)
  --database PATH   the SQLite file to build (replaced; default data/scale-<factor>.db)
With DATABASE_URL set (and DATABASE_SCHEMA if wanted), it builds in PostgreSQL instead.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      factor: { type: 'string', default: '1' },
      years: { type: 'string', default: '10' },
      'last-year': { type: 'string' },
      database: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const factor = Number(values.factor);
  const years = Number(values.years);
  const lastYear = values['last-year'];
  const wrong: string[] = [];
  if (!Number.isFinite(factor) || factor <= 0 || factor > 1000) wrong.push('--factor must be a number above 0 (at most 1000)');
  if (!Number.isInteger(years) || years < 1 || years > 50) wrong.push('--years must be a whole number from 1 to 50');
  const lastStart = lastYear ? Number(lastYear.slice(0, 4)) : null;
  if (
    lastYear &&
    (!parseFinancialYear(lastYear) ||
      (lastStart as number) - years + 1 < FIRST_FINANCIAL_YEAR ||
      (lastStart as number) > LAST_FINANCIAL_YEAR)
  )
    wrong.push(`--last-year must be a financial year as YYYY-YY with room for ${years} years from ${FIRST_FINANCIAL_YEAR}`);
  if (wrong.length > 0) {
    console.error(`${wrong.join('\n')}\n\n${HELP}`);
    return 2;
  }

  const path = values.database ?? `data/scale-${factor}.db`;
  const config = loadConfig({ ...process.env, DATABASE_PATH: path, LOG_LEVEL: 'warn' });
  configureAuditKey(config.auditKey);
  if (config.database.engine === 'sqlite') for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
  // The reference data is loaded at the start of the simulated clock, so the audit trail's times never go back.
  const database = await prepareDatabase(config.database, scaleClockStart({ years, ...(lastYear ? { lastYear } : {}) }));
  try {
    const existing = await database.db.selectFrom('financial_years').select('name').executeTakeFirst();
    if (existing) {
      console.error(`The database already holds financial year ${existing.name}; build the scale data set in an empty one.`);
      return 1;
    }
    const where =
      config.database.engine === 'sqlite'
        ? `SQLite ${path}`
        : `PostgreSQL${config.database.schema ? ` schema ${config.database.schema}` : ''}`;
    const { cases, reports } = perYear(factor);
    console.log(
      `Building the scale data set in ${where}: factor ${factor}, ${years} years, ${cases} cases and up to ${reports} benefit reports a year`,
    );
    const bar = new SingleBar({
      format: 'Scale {bar} {percentage}% | {value}/{total} items | {operations} operations, {rate} a second | ETA {eta_formatted}',
      etaBuffer: 200,
      hideCursor: true,
    });
    const started = Date.now();
    const summary = await seedScale(
      database.db,
      { factor, years, ...(lastYear ? { lastYear } : {}) },
      {
        start: (total) => bar.start(total, 0, { operations: 0, rate: 0 }),
        advance: (items, operations) =>
          bar.increment(items, { operations, rate: Math.round(operations / Math.max(0.001, (Date.now() - started) / 1000)) }),
      },
    );
    bar.stop();
    const books = await verifyLedger(database.db);
    // A token to explore the set with: the users the set was built by acted on simulated dates, so theirs have expired.
    const { token } = await inTransaction(database.db, (trx) =>
      createUser(trx, { name: 'Scale data set reader (HM Treasury)', role: 'treasury' }, SYSTEM),
    );
    console.log(`Built in ${summary.seconds.toFixed(1)} s (${Math.round(summary.operations / summary.seconds)} operations a second):
  financial years   ${summary.financialYears[0]} to ${summary.financialYears.at(-1)}
  departments       ${summary.departments}; places ${summary.places}
  cases             ${summary.cases} drafted, submitted, scored and decided; ${summary.approved} approved
  tranches          ${summary.tranchesReleased} released
  benefit reports   ${summary.benefitReports} filed, ${summary.benefitReportsVerified} verified
  credit market     ${summary.trades} trades; compliance run for ${summary.complianceRuns} years
  operations        ${summary.operations}
  ledger            ${books.ok ? 'verifies' : 'DOES NOT VERIFY'}
A treasury token for this database (last line):
${token}`);
    return books.ok ? 0 : 1;
  } finally {
    await database.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
