import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { configureAuditKey, SYSTEM } from '../src/audit/audit.ts';
import { runYearCompliance } from '../src/compliance/compliance.ts';
import type { DatabaseConfig } from '../src/config.ts';
import { closeFinancialYear } from '../src/credits/close.ts';
import { type Database, type Db, dryRun, inTransaction, type Tx } from '../src/db/database.ts';
import { prepareDatabase } from '../src/db/prepare.ts';
import { buildPlaceReport } from '../src/documents/documents.ts';
import { accountIds, postContributions, setDepartmentTerms, setUpFinancialYear } from '../src/fund/fund.ts';
import { createApp } from '../src/http/app.ts';
import { createLogger } from '../src/lib/log.ts';
import type { Act } from '../src/lib/operation.ts';
import { placeOrder } from '../src/market/orders.ts';
import { setMarketPrices } from '../src/market/prices.ts';
import { scaleClockStart, seedScale } from '../src/scale/seed.ts';
import { createUser, type Principal } from '../src/users/users.ts';
import { verificationReport } from '../src/verify/report.ts';
import { interleave, measure, median, p95, ratios, writeResults } from './measure.ts';

/*
 * npm run bench:scale -- [--factors 1,10] [--database-dir DIR] [--samples N] [--only NAMES]
 * How each key operation's latency grows with the size of the fund. For each factor, a database
 * built by the scale generator (src/scale/seed.ts): on SQLite, DIR/scale-<factor>.db is copied
 * (never written) when it exists, and built there first when it does not (without DIR, built in
 * a temporary directory); with DATABASE_URL set, PostgreSQL, in a schema scale_<factor> of that
 * database, built once and reused.
 * Reads go through the HTTP app in process with real bearer tokens (users created in the copy).
 * Every size is open at once and the samples are interleaved (size 1, size 10, size 1, …) so
 * the machine's load lands on each alike; each operation gives its p50 and p95 per size and the
 * growth from the first size to each other: the median of the per-round ratios, with its spread.
 * Year close, compliance and an order match change the books, so each runs inside a transaction
 * that is rolled back (src/db/database.ts dryRun): repeatable, and nothing kept. They act on
 * the year after the last one played (today's year), set up inside the same transaction, so the
 * timed call is the operation alone on a ledger of the full size.
 * The figures are also written to bench/scale-results.json.
 */

const USAGE = `npm run bench:scale -- [--factors 1,10] [--database-dir DIR] [--samples N] [--only NAMES] [--years Y]
  --factors       sizes of the fund to compare, comma-separated (default 1,10)
  --database-dir  keep the built databases in DIR (scale-<factor>.db) and reuse them; without it,
                  each run builds every size afresh (factor 10: about five minutes on SQLite)
  --samples       samples a read (default 25)
  --only          only these operations, comma-separated
  --years         financial years each size plays (default 10)
With DATABASE_URL set: PostgreSQL, each size in a schema scale_<factor>, built once and reused.`;

/** Stops with what was wrong and how to call it, not a stack trace. */
function usage(problem?: string): never {
  if (problem) console.error(`bench:scale: ${problem}\n`);
  console.error(USAGE);
  process.exit(problem ? 2 : 0);
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        factors: { type: 'string', default: process.env.SCALE_FACTORS ?? '1,10' },
        'database-dir': { type: 'string', default: process.env.SCALE_DB_DIR },
        samples: { type: 'string', default: process.env.BENCH_SAMPLES ?? '25' },
        only: { type: 'string', default: process.env.BENCH_ONLY },
        years: { type: 'string', default: '10' },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    return usage((error as Error).message);
  }
})();
if (values.help) usage();
const factors = (values.factors as string).split(',').map(Number);
if (factors.length < 1 || factors.some((f) => !Number.isFinite(f) || f <= 0 || f > 1000))
  usage('--factors must be numbers above 0, comma-separated');
const SAMPLES = Number(values.samples);
if (!Number.isInteger(SAMPLES) || SAMPLES < 1 || SAMPLES > 10_000) usage('--samples must be a whole number from 1 to 10,000');
const only = values.only ? new Set(values.only.split(',').map((s) => s.trim())) : null;
const years = Number(values.years);
const postgresUrl = process.env.DATABASE_URL;
const engine = postgresUrl ? 'postgres' : 'sqlite';
// Whole-ledger operations take seconds at the larger sizes: fewer samples.
const HEAVY_SAMPLES = Math.max(1, Math.min(SAMPLES, Number(process.env.BENCH_HEAVY_SAMPLES ?? '5')));
const NOW = () => new Date();
configureAuditKey(process.env.AUDIT_KEY ?? 'INSECURE-development-only-audit-key-set-AUDIT_KEY');

/** One size of the fund, open and ready to be read. */
interface Size {
  factor: number;
  database: Database;
  app: ReturnType<typeof createApp>;
  tokens: { treasury: string; department: string; council: string; auditor: string };
  principals: { treasury: Principal; department: Principal };
  /** What the reads are about, chosen the same way at each size. */
  fy: string;
  nextFy: string;
  department: string;
  place: string;
  caseId: string;
  roundId: string;
  account: string;
  /** A `seq` half-way down the account's transfers and a `position` half-way down the audit log. */
  midSeq: string;
  midPosition: string;
  /** The nextCursor of the first page of each `GET /benefits` filter. */
  benefitsCursor: { department: string | null; place: string | null };
  counts: Record<string, number>;
}

const tmp = mkdtempSync(join(tmpdir(), 'topslice-scale-bench-'));
const schemaOf = (f: number) => `scale_${String(f).replace('.', '_')}`;

async function seeded(factor: number): Promise<Database> {
  if (postgresUrl) {
    const config: DatabaseConfig = { engine: 'postgres', url: postgresUrl, schema: schemaOf(factor) };
    const database = await prepareDatabase(config);
    const existing = await database.db.selectFrom('financial_years').select('name').executeTakeFirst();
    if (!existing) await build(database, factor);
    return database;
  }
  const dir = values['database-dir'];
  const cached = dir ? join(dir, `scale-${factor}.db`) : join(tmp, `built-${factor}.db`);
  if (!existsSync(cached)) {
    if (dir) mkdirSync(dir, { recursive: true });
    // The reference data loaded at the start of the simulated clock, as `npm run seed:scale` does.
    const database = await prepareDatabase({ engine: 'sqlite', path: cached }, scaleClockStart({ years }));
    await build(database, factor);
    await database.close();
  }
  // A copy, so the cached file is never written (the WAL too, if the builder left one).
  const path = join(tmp, `scale-${factor}.db`);
  for (const suffix of ['', '-wal']) if (existsSync(`${cached}${suffix}`)) copyFileSync(`${cached}${suffix}`, `${path}${suffix}`);
  return prepareDatabase({ engine: 'sqlite', path });
}

async function build(database: Database, factor: number): Promise<void> {
  const started = performance.now();
  process.stdout.write(`  building factor ${factor} in ${engine} (${years} years)… `);
  const s = await seedScale(database.db, { factor, years });
  console.log(`${((performance.now() - started) / 1000).toFixed(0)} s, ${s.operations} operations`);
}

async function count(db: Db, table: 'cases' | 'transfers' | 'audit_log' | 'benefit_reports'): Promise<number> {
  const r = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<string | number | bigint>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

async function open(factor: number): Promise<Size> {
  const database = await seeded(factor);
  const db = database.db;
  const fy = (await db.selectFrom('financial_years').select('name').orderBy('name', 'desc').executeTakeFirstOrThrow()).name;
  const nextFy = `${Number(fy.slice(0, 4)) + 1}-${String((Number(fy.slice(0, 4)) + 2) % 100).padStart(2, '0')}`;
  const department = 'DHSC';
  const place = (await db.selectFrom('places').select('code').orderBy('code').executeTakeFirstOrThrow()).code;
  const council = (
    await db
      .selectFrom('organisations')
      .select('code')
      .where('kind', '=', 'council')
      .where('place_code', '=', place)
      .orderBy('code')
      .executeTakeFirstOrThrow()
  ).code;
  const round = await db.selectFrom('funding_rounds').select('id').where('financial_year', '=', fy).orderBy('id').executeTakeFirstOrThrow();
  const kase = await db
    .selectFrom('cases')
    .select('id')
    .where('round_id', '=', round.id)
    .where('status', '=', 'approved')
    .orderBy('reference')
    .executeTakeFirstOrThrow();
  const users = await inTransaction(db, async (trx) => {
    const make = (name: string, role: Principal['role'], organisationCode: string | null = null) =>
      createUser(trx, { name, role, organisationCode }, SYSTEM);
    return {
      treasury: await make('Scale benchmark (HM Treasury)', 'treasury'),
      department: await make('Scale benchmark (DHSC)', 'department', department),
      council: await make('Scale benchmark (council)', 'council', council),
      auditor: await make('Scale benchmark (auditor)', 'auditor'),
    };
  });
  const account = accountIds.fund(fy);
  const seqs = await db.selectFrom('transfers').select('seq').where('debit_account_id', '=', account).orderBy('seq').execute();
  const credits = await db.selectFrom('transfers').select('seq').where('credit_account_id', '=', account).orderBy('seq').execute();
  const all = [...seqs, ...credits].map((r) => BigInt(r.seq)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const head = await db.selectFrom('audit_log').select('position').orderBy('position', 'desc').executeTakeFirstOrThrow();
  const app = createApp({ database, log: createLogger('silent'), clock: NOW });
  const size: Size = {
    factor,
    database,
    app,
    tokens: {
      treasury: users.treasury.token,
      department: users.department.token,
      council: users.council.token,
      auditor: users.auditor.token,
    },
    principals: { treasury: users.treasury.user, department: users.department.user },
    fy,
    nextFy,
    department,
    place,
    caseId: kase.id,
    roundId: round.id,
    account,
    midSeq: String(all[Math.floor(all.length / 2)] ?? 0n),
    midPosition: String(BigInt(head.position) / 2n),
    benefitsCursor: { department: null, place: null },
    counts: {
      cases: await count(db, 'cases'),
      transfers: await count(db, 'transfers'),
      auditEntries: await count(db, 'audit_log'),
      benefitReports: await count(db, 'benefit_reports'),
      fundAccountTransfers: all.length,
    },
  };
  const first = async (query: string) =>
    ((await get(size, `/api/v1/benefits?${query}&limit=50`, 'treasury')) as { nextCursor: string | null }).nextCursor;
  size.benefitsCursor = {
    department: await first(`department=${department}`),
    place: await first(`place=${place}`),
  };
  return size;
}

/** GETs `path` from the app in process as `who`, reads the body; throws unless 200. */
async function get(size: Size, path: string, who: keyof Size['tokens']): Promise<unknown> {
  const res = await size.app.request(path, { headers: { authorization: `Bearer ${size.tokens[who]}` } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`factor ${size.factor}: GET ${path}: ${res.status} ${text.slice(0, 300)}`);
  return res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
}

const act = (trx: Tx, principal: Principal): Act => ({ trx, principal, requestId: null, now: NOW() });

/**
 * Today's year set up as the generator sets a year up (every department's terms, the top-slice
 * posted), inside `trx`; untimed preparation for the year-end operations.
 */
async function setUpNextYear(trx: Tx, s: Size): Promise<void> {
  const terms = await trx.selectFrom('department_years').selectAll().where('financial_year', '=', s.fy).execute();
  await setUpFinancialYear(act(trx, s.principals.treasury), s.nextFy);
  for (const t of terms)
    await setDepartmentTerms(act(trx, s.principals.treasury), s.nextFy, t.department_code, {
      baselinePence: BigInt(t.baseline_pence),
      topSliceBasisPoints: Number(t.top_slice_basis_points),
      savingsTargetPence: BigInt(t.savings_target_pence),
    });
  await postContributions(act(trx, s.principals.treasury), s.nextFy);
}

/** Times `work` inside a transaction that is rolled back, after untimed `prepare` in the same transaction. */
async function undone(s: Size, prepare: (trx: Tx) => Promise<void>, work: (trx: Tx) => Promise<unknown>): Promise<number> {
  return dryRun(s.database.db, async (trx) => {
    await prepare(trx);
    const t = performance.now();
    await work(trx);
    return performance.now() - t;
  });
}

interface Operation {
  name: string;
  /** Single entity, a page of a list, or the whole ledger/year (whose aim differs). */
  kind: 'entity' | 'page' | 'whole';
  heavy?: boolean;
  run: (s: Size) => Promise<number>;
}

const timed =
  (path: (s: Size) => string, who: keyof Size['tokens'] = 'treasury') =>
  async (s: Size) => {
    const t = performance.now();
    await get(s, path(s), who);
    return performance.now() - t;
  };

const OPERATIONS: Operation[] = [
  { name: 'fund', kind: 'entity', run: timed((s) => `/api/v1/fund?fy=${s.fy}`) },
  { name: 'position', kind: 'entity', run: timed((s) => `/api/v1/departments/${s.department}/position?fy=${s.fy}`, 'department') },
  { name: 'benefits-department', kind: 'page', run: timed((s) => `/api/v1/benefits?department=${s.department}&limit=50`) },
  {
    name: 'benefits-department-page-2',
    kind: 'page',
    run: timed((s) => `/api/v1/benefits?department=${s.department}&limit=50&after=${s.benefitsCursor.department ?? ''}`),
  },
  { name: 'benefits-place', kind: 'page', run: timed((s) => `/api/v1/benefits?place=${s.place}&limit=50`) },
  {
    name: 'benefits-place-page-2',
    kind: 'page',
    run: timed((s) => `/api/v1/benefits?place=${s.place}&limit=50${s.benefitsCursor.place ? `&after=${s.benefitsCursor.place}` : ''}`),
  },
  { name: 'case', kind: 'entity', run: timed((s) => `/api/v1/cases/${s.caseId}`) },
  { name: 'case-appraisal', kind: 'entity', run: timed((s) => `/api/v1/cases/${s.caseId}/appraisal`) },
  { name: 'round-ranking', kind: 'whole', run: timed((s) => `/api/v1/rounds/${s.roundId}/ranking`) },
  {
    name: 'transfers-account',
    kind: 'page',
    run: timed((s) => `/api/v1/ledger/transfers?account=${encodeURIComponent(s.account)}&limit=50`),
  },
  {
    name: 'transfers-account-mid',
    kind: 'page',
    run: timed((s) => `/api/v1/ledger/transfers?account=${encodeURIComponent(s.account)}&limit=50&after=${s.midSeq}`),
  },
  { name: 'audit-log', kind: 'page', run: timed(() => '/api/v1/audit-log?limit=50', 'auditor') },
  { name: 'audit-log-mid', kind: 'page', run: timed((s) => `/api/v1/audit-log?limit=50&after=${s.midPosition}`, 'auditor') },
  // One case's whole history (the case, its tranches, its benefit reports): few entries among all,
  // so without an index on subject a page reads the whole chain.
  { name: 'audit-log-case', kind: 'page', run: timed((s) => `/api/v1/audit-log?case=${s.caseId}&limit=50`, 'auditor') },
  {
    name: 'place-report',
    kind: 'entity',
    run: async (s) => {
      const t = performance.now();
      await buildPlaceReport(s.database.db, s.principals.treasury, s.place, s.fy, NOW());
      return performance.now() - t;
    },
  },
  {
    name: 'verify',
    kind: 'whole',
    heavy: true,
    run: async (s) => {
      const t = performance.now();
      const report = await verificationReport(s.database.db, NOW(), { checkpointPath: null });
      if (!report.ok) throw new Error(`factor ${s.factor}: the books do not verify`);
      return performance.now() - t;
    },
  },
  {
    name: 'year-close',
    kind: 'whole',
    heavy: true,
    run: (s) =>
      undone(
        s,
        (trx) => setUpNextYear(trx, s),
        (trx) => closeFinancialYear(act(trx, s.principals.treasury), s.nextFy),
      ),
  },
  {
    name: 'compliance',
    kind: 'whole',
    heavy: true,
    run: (s) =>
      undone(
        s,
        async (trx) => {
          await setUpNextYear(trx, s);
          await closeFinancialYear(act(trx, s.principals.treasury), s.nextFy);
          await setMarketPrices(act(trx, s.principals.treasury), s.nextFy, { floorPence: 50n, ceilingPence: 120n });
        },
        (trx) => runYearCompliance(act(trx, s.principals.treasury), s.nextFy),
      ),
  },
  {
    name: 'order-match',
    kind: 'entity',
    heavy: true,
    run: (s) => {
      let buyer: Principal | null = null;
      return undone(
        s,
        async (trx) => {
          await setUpNextYear(trx, s);
          await closeFinancialYear(act(trx, s.principals.treasury), s.nextFy);
          await setMarketPrices(act(trx, s.principals.treasury), s.nextFy, { floorPence: 50n, ceilingPence: 120n });
          // A department holding credits of the last year's vintage offers one; another bids for it (timed: the match).
          const holding = await trx
            .selectFrom('accounts')
            .select(['organisation_code'])
            .where('kind', '=', 'credit-holding')
            .where('financial_year', '=', s.fy)
            .where(sql<boolean>`credits_posted - debits_posted > debits_pending + 1`)
            .orderBy('organisation_code')
            .executeTakeFirstOrThrow();
          const seller = holding.organisation_code as string;
          const other = seller === s.department ? 'DWP' : s.department;
          const make = (code: string) =>
            createUser(trx, { name: `Scale benchmark (${code})`, role: 'department', organisationCode: code }, SYSTEM);
          const sellerUser = (await make(seller)).user;
          buyer = (await make(other)).user;
          await placeOrder(act(trx, sellerUser), {
            financialYear: s.nextFy,
            side: 'sell',
            quantity: 1n,
            limitPricePence: 100n,
            vintage: s.fy,
          });
        },
        async (trx) => {
          const { fills } = await placeOrder(act(trx, buyer as Principal), {
            financialYear: s.nextFy,
            side: 'buy',
            quantity: 1n,
            limitPricePence: 110n,
          });
          if (fills.length !== 1) throw new Error(`factor ${s.factor}: the bid matched ${fills.length} offers, not 1`);
        },
      );
    },
  },
];

interface Row {
  name: string;
  kind: Operation['kind'];
  samples: number;
  sizes: { factor: number; p50: number; p95: number }[];
  /** Growth from the first size to each later one: median of per-round ratios of the times, and its spread. */
  growth: { factor: number; median: number; min: number; max: number }[];
}

async function main(): Promise<void> {
  const load = () =>
    loadavg()
      .map((x) => x.toFixed(2))
      .join(', ');
  console.log(`scale: ${engine === 'sqlite' ? 'SQLite' : 'PostgreSQL'}, factors ${factors.join(', ')}; load average ${load()}`);
  const sizes: Size[] = [];
  for (const f of factors) sizes.push(await open(f));
  for (const s of sizes)
    console.log(
      `  factor ${s.factor}: ${s.counts.cases} cases, ${s.counts.benefitReports} benefit reports, ${s.counts.transfers} transfers, ${s.counts.auditEntries} audit entries; ${s.counts.fundAccountTransfers} transfers on ${s.account}`,
    );
  const loadBefore = loadavg();
  const rows: Row[] = [];
  const width = 28;
  console.log(
    `\n  ${'operation'.padEnd(width)}${sizes.map((s) => `  ×${s.factor} p50 / p95 ms`.padStart(24)).join('')}${sizes
      .slice(1)
      .map((s) => `  growth ×${s.factor}`.padStart(24))
      .join('')}`,
  );
  for (const op of OPERATIONS) {
    if (only && !only.has(op.name)) continue;
    const n = op.heavy ? HEAVY_SAMPLES : SAMPLES;
    const times = (await interleave(
      sizes.map((s) => () => op.run(s)),
      n,
    )) as number[][];
    const row: Row = {
      name: op.name,
      kind: op.kind,
      samples: n,
      sizes: sizes.map((s, i) => ({ factor: s.factor, p50: median(times[i] as number[]), p95: p95(times[i] as number[]) })),
      growth: sizes.slice(1).map((s, j) => {
        const m = measure(
          `scale ${engine}: ${op.name} growth ×${sizes[0]?.factor}→×${s.factor}`,
          'ratio',
          ratios(times[j + 1] as number[], times[0] as number[]),
        );
        return { factor: s.factor, median: m.median, min: m.min, max: m.max };
      }),
    };
    for (const [i, s] of sizes.entries()) {
      measure(`scale ${engine}: ${op.name} ×${s.factor} latency`, 'ms', times[i] as number[]);
    }
    rows.push(row);
    console.log(
      `  ${op.name.padEnd(width)}${row.sizes.map((x) => `${x.p50.toFixed(1)} / ${x.p95.toFixed(1)}`.padStart(24)).join('')}${row.growth
        .map((g) => `${g.median.toFixed(2)} (${g.min.toFixed(2)}–${g.max.toFixed(2)})`.padStart(24))
        .join('')}`,
    );
  }
  const loadAfter = loadavg();
  console.log(
    `\n  ${SAMPLES} samples a read (${HEAVY_SAMPLES} for verify, close, compliance, order match), interleaved across sizes; load average ${load()}`,
  );
  writeResults(join(import.meta.dirname, 'scale-results.json'), {
    engine,
    factors,
    samples: SAMPLES,
    heavySamples: HEAVY_SAMPLES,
    loadAverage: { before: loadBefore, after: loadAfter },
    sizes: sizes.map((s) => ({ factor: s.factor, ...s.counts })),
    operations: rows,
  });
  for (const s of sizes) await s.database.close();
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => rmSync(tmp, { recursive: true, force: true }));
