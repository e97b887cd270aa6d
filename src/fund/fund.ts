import { type Actor, appendAudit } from '../audit/audit.ts';
import { type Db, isPostgres, type Tx } from '../db/database.ts';
import { type CreateTransferResult, createAccounts, createTransfers, getAccount } from '../ledger/ledger.ts';
import { LEDGER_REFUSALS } from '../ledger/refusals.ts';
import { type Account, availableBalance, MAX_AMOUNT, postedBalance, type TransferInput } from '../ledger/types.ts';
import { type DomainError, forbidden, invalid } from '../lib/errors.ts';
import { applyBasisPoints, formatPence, type Pence } from '../lib/money.ts';
import { type Act, type Look, operation } from '../lib/operation.ts';
import { refuse } from '../lib/refusals.ts';
import { REFERENCE_REFUSALS } from '../reference/refusals.ts';
import { actorOf, ROLES } from '../users/users.ts';
import { FUND_REFUSALS } from './refusals.ts';
import { mayReadDepartmentFigures } from './visibility.ts';

/*
 * The top-sliced fund for one financial year. Money is voted to each department from the
 * Exchequer (its baseline), and each department pays its top-slice into the fund. Accounts are
 * per year: unspent money does not roll into the next year by itself.
 */

export const FINANCIAL_YEAR_PATTERN = /^(\d{4})-(\d{2})$/;

export interface FinancialYear {
  name: string;
  startsOn: string;
  endsOn: string;
  status: 'open' | 'closed';
  createdAt: string;
}

export interface DepartmentYear {
  financialYear: string;
  departmentCode: string;
  baselinePence: Pence;
  topSliceBasisPoints: number;
  savingsTargetPence: Pence;
  /** The top-slice this baseline and rate give: baseline × rate, half-even to the penny. */
  contributionDuePence: Pence;
  revision: number;
  updatedAt: string;
}

export const accountIds = {
  exchequer: (fy: string) => `GBP/${fy}/exchequer`,
  fund: (fy: string) => `GBP/${fy}/fund`,
  department: (fy: string, code: string) => `GBP/${fy}/department/${code}`,
};

export const transferIds = {
  budget: (fy: string, code: string, revision: number) => `budget/${fy}/${code}/${revision}`,
  contribution: (fy: string, code: string) => `contribution/${fy}/${code}`,
};

/**
 * The financial years the service speaks of: April 2000 to March 2200. Wide enough for every
 * fund year and every year an appraisal looks ahead to; a year outside it (`1899-00`, `2999-00`)
 * is a typing mistake, refused wherever a year is named.
 */
export const FIRST_FINANCIAL_YEAR = 2000;
export const LAST_FINANCIAL_YEAR = 2199;

/** `2026-27` → its dates, or null if it is not a financial year's name in the service's range. */
export function parseFinancialYear(name: string): { startsOn: string; endsOn: string } | null {
  const m = FINANCIAL_YEAR_PATTERN.exec(name);
  if (!m) return null;
  const start = Number(m[1]);
  if (start < FIRST_FINANCIAL_YEAR || start > LAST_FINANCIAL_YEAR) return null;
  if ((start + 1) % 100 !== Number(m[2])) return null;
  return { startsOn: `${start}-04-01`, endsOn: `${start + 1}-03-31` };
}

/** The financial year (April to March) that contains `date`. */
export function financialYearOf(date: Date): string {
  const y = date.getUTCFullYear();
  const start = date.getUTCMonth() >= 3 ? y : y - 1;
  return `${start}-${String((start + 1) % 100).padStart(2, '0')}`;
}

export async function createFinancialYear(
  trx: Tx,
  name: string,
  actor: Actor,
  requestId: string | null,
  now: Date,
): Promise<FinancialYear> {
  const dates = parseFinancialYear(name);
  if (!dates) throw invalid([{ pointer: '/name', detail: 'must name an April–March year as YYYY-YY, e.g. 2026-27' }]);
  const existing = await trx.selectFrom('financial_years').select('name').where('name', '=', name).executeTakeFirst();
  if (existing) throw refuse(FUND_REFUSALS, 'financial-year-exists', `Financial year ${name} already exists.`);
  const year: FinancialYear = { name, ...dates, status: 'open', createdAt: now.toISOString() };
  await trx
    .insertInto('financial_years')
    .values({ name, starts_on: year.startsOn, ends_on: year.endsOn, status: year.status, created_at: year.createdAt })
    .execute();
  const [fundOrg, exchequerOrg] = await Promise.all([organisationOfKind(trx, 'fund'), organisationOfKind(trx, 'exchequer')]);
  await mustCreateAccounts(trx, now, [
    // The Consolidated Fund is where voted money comes from: it runs a debit balance by design.
    { id: accountIds.exchequer(name), ledger: 'GBP', kind: 'exchequer', organisationCode: exchequerOrg, financialYear: name },
    {
      id: accountIds.fund(name),
      ledger: 'GBP',
      kind: 'fund',
      organisationCode: fundOrg,
      financialYear: name,
      debitsMustNotExceedCredits: true,
    },
  ]);
  await appendAudit(trx, { actor, action: 'financial-year.created', subject: `financial-year/${name}`, detail: year, requestId }, now);
  return year;
}

export async function listFinancialYears(db: Db | Tx): Promise<FinancialYear[]> {
  const rows = await db.selectFrom('financial_years').selectAll().orderBy('name').execute();
  return rows.map(yearFromRow);
}

export async function getFinancialYear(db: Db | Tx, name: string): Promise<FinancialYear> {
  const row = await db.selectFrom('financial_years').selectAll().where('name', '=', name).executeTakeFirst();
  if (!row)
    throw refuse(
      FUND_REFUSALS,
      'financial-year-not-found',
      `There is no financial year ${name}. Treasury sets years up with POST /api/v1/financial-years.`,
    );
  return yearFromRow(row);
}

/**
 * Reads a year to change its fund set-up. On PostgreSQL this takes the year's row lock, so a
 * baseline change and a contribution run for the same year never interleave (SQLite writers
 * already run one at a time). Lock order: year, then ledger accounts, then the audit head.
 */
async function lockYear(trx: Tx, name: string): Promise<FinancialYear> {
  if (isPostgres(trx)) await trx.selectFrom('financial_years').select('name').where('name', '=', name).forUpdate().execute();
  return getFinancialYear(trx, name);
}

function yearFromRow(r: { name: string; starts_on: string; ends_on: string; status: string; created_at: string }): FinancialYear {
  return { name: r.name, startsOn: r.starts_on, endsOn: r.ends_on, status: r.status as 'open' | 'closed', createdAt: r.created_at };
}

export interface DepartmentYearInput {
  baselinePence: Pence;
  topSliceBasisPoints: number;
  savingsTargetPence: Pence;
}

/**
 * Sets a department's baseline, top-slice rate and savings target for a year. The baseline is
 * voted from the Exchequer to the department's account; a changed baseline posts the difference
 * (never an edit). Once the department's contribution is posted, its baseline and rate are fixed.
 */
export async function setDepartmentYear(
  trx: Tx,
  fy: string,
  departmentCode: string,
  input: DepartmentYearInput,
  actor: Actor,
  requestId: string | null,
  now: Date,
): Promise<{ departmentYear: DepartmentYear; created: boolean }> {
  const year = await lockYear(trx, fy);
  if (year.status !== 'open') throw refuse(FUND_REFUSALS, 'financial-year-closed', `Financial year ${fy} is closed.`);
  const dept = await trx.selectFrom('organisations').select(['code', 'kind']).where('code', '=', departmentCode).executeTakeFirst();
  if (dept?.kind !== 'department')
    throw refuse(REFERENCE_REFUSALS, 'department-not-found', `There is no department with the code ${departmentCode}.`);

  const before = await findDepartmentYear(trx, fy, departmentCode);
  const contribution = await trx
    .selectFrom('transfers')
    .select('id')
    .where('id', '=', transferIds.contribution(fy, departmentCode))
    .executeTakeFirst();
  if (
    contribution &&
    before &&
    (before.baselinePence !== input.baselinePence || before.topSliceBasisPoints !== input.topSliceBasisPoints)
  ) {
    throw refuse(
      FUND_REFUSALS,
      'contribution-already-posted',
      `${departmentCode}'s top-slice for ${fy} has been posted, so its baseline and rate can no longer change. The savings target still can.`,
    );
  }

  await mustCreateAccounts(trx, now, [
    {
      id: accountIds.department(fy, departmentCode),
      ledger: 'GBP',
      kind: 'department',
      organisationCode: departmentCode,
      financialYear: fy,
      debitsMustNotExceedCredits: true,
    },
  ]);

  const unchanged =
    before &&
    before.baselinePence === input.baselinePence &&
    before.topSliceBasisPoints === input.topSliceBasisPoints &&
    before.savingsTargetPence === input.savingsTargetPence;
  if (before && unchanged) return { departmentYear: before, created: false };

  const revision = (before?.revision ?? 0) + 1;
  const delta = input.baselinePence - (before?.baselinePence ?? 0n);
  if (delta !== 0n) {
    const increase = delta > 0n;
    const [result] = await createTransfers(
      trx,
      [
        {
          id: transferIds.budget(fy, departmentCode, revision),
          debitAccountId: increase ? accountIds.exchequer(fy) : accountIds.department(fy, departmentCode),
          creditAccountId: increase ? accountIds.department(fy, departmentCode) : accountIds.exchequer(fy),
          amount: increase ? delta : -delta,
          ledger: 'GBP',
          code: increase ? 'budget' : 'budget-reduction',
          reference: `${departmentCode} baseline for ${fy}, revision ${revision}`,
        },
      ],
      now,
    );
    if (result && 'error' in result) {
      if (result.error === 'exceeds_credits') {
        throw refuse(
          FUND_REFUSALS,
          'baseline-below-committed',
          `${departmentCode}'s baseline cannot fall by ${formatPence(-delta)}: the department has already paid out more than the new baseline leaves.`,
          { ledgerError: result.error },
        );
      }
      throw ledgerRefusal(result);
    }
  }

  const row = {
    financial_year: fy,
    department_code: departmentCode,
    baseline_pence: input.baselinePence,
    top_slice_basis_points: input.topSliceBasisPoints,
    savings_target_pence: input.savingsTargetPence,
    revision,
    updated_at: now.toISOString(),
  };
  if (before) {
    await trx
      .updateTable('department_years')
      .set(row)
      .where('financial_year', '=', fy)
      .where('department_code', '=', departmentCode)
      .execute();
  } else {
    await trx.insertInto('department_years').values(row).execute();
  }
  const after = departmentYearFromRow(row);
  await appendAudit(
    trx,
    {
      actor,
      action: 'department-year.set',
      subject: `financial-year/${fy}/department/${departmentCode}`,
      detail: { before: before ?? null, after },
      requestId,
    },
    now,
  );
  return { departmentYear: after, created: !before };
}

export async function findDepartmentYear(db: Db | Tx, fy: string, code: string): Promise<DepartmentYear | undefined> {
  const row = await db
    .selectFrom('department_years')
    .selectAll()
    .where('financial_year', '=', fy)
    .where('department_code', '=', code)
    .executeTakeFirst();
  return row ? departmentYearFromRow(row) : undefined;
}

export async function listDepartmentYears(db: Db | Tx, fy: string, departmentCode?: string): Promise<DepartmentYear[]> {
  let q = db.selectFrom('department_years').selectAll().where('financial_year', '=', fy);
  if (departmentCode) q = q.where('department_code', '=', departmentCode);
  const rows = await q.orderBy('department_code').execute();
  return rows.map(departmentYearFromRow);
}

function departmentYearFromRow(r: {
  financial_year: string;
  department_code: string;
  baseline_pence: bigint | number;
  top_slice_basis_points: bigint | number;
  savings_target_pence: bigint | number;
  revision: bigint | number;
  updated_at: string;
}): DepartmentYear {
  const baseline = BigInt(r.baseline_pence);
  const rate = Number(r.top_slice_basis_points);
  return {
    financialYear: r.financial_year,
    departmentCode: r.department_code,
    baselinePence: baseline,
    topSliceBasisPoints: rate,
    savingsTargetPence: BigInt(r.savings_target_pence),
    contributionDuePence: applyBasisPoints(baseline, rate),
    revision: Number(r.revision),
    updatedAt: r.updated_at,
  };
}

export interface PostedContribution {
  departmentCode: string;
  amountPence: Pence;
  transferId: string;
}

export interface ContributionRun {
  financialYear: string;
  posted: PostedContribution[];
  alreadyPosted: PostedContribution[];
  /** Departments whose rate gives nothing to pay (0 bp or a zero baseline). */
  nothingDue: string[];
}

/**
 * Treasury posts every department's top-slice for year `fy` from its account to the fund, all or
 * nothing. Each contribution's transfer id is fixed by year and department, so running it again
 * posts nothing new. Changes: one `contribution` transfer per department with something due, one
 * `contributions.posted` audit entry if anything was posted. Amounts in pence.
 * Refusals: `forbidden`; financial-year-not-found (404); financial-year-closed (409);
 * no-departments-set, contributions-refused, ledger-refused (422).
 */
export const postContributions = operation(
  {
    roles: ['treasury'],
    refuses: ['financial-year-not-found', 'financial-year-closed', 'no-departments-set', 'contributions-refused', 'ledger-refused'],
  },
  async ({ trx, principal, requestId, now }: Act, fy: string): Promise<ContributionRun> => {
    const actor = actorOf(principal);
    const year = await lockYear(trx, fy);
    if (year.status !== 'open') throw refuse(FUND_REFUSALS, 'financial-year-closed', `Financial year ${fy} is closed.`);
    const departments = await listDepartmentYears(trx, fy);
    if (departments.length === 0) {
      throw refuse(
        FUND_REFUSALS,
        'no-departments-set',
        `No department has a baseline and top-slice rate for ${fy}. Set them with PUT /api/v1/financial-years/${fy}/departments/{code}.`,
      );
    }
    const due = departments.filter((d) => d.contributionDuePence > 0n);
    const transfers: TransferInput[] = due.map((d) => ({
      id: transferIds.contribution(fy, d.departmentCode),
      debitAccountId: accountIds.department(fy, d.departmentCode),
      creditAccountId: accountIds.fund(fy),
      amount: d.contributionDuePence,
      ledger: 'GBP',
      code: 'contribution',
      reference: `${d.departmentCode} top-slice for ${fy} at ${d.topSliceBasisPoints} bp`,
    }));
    const results = await createTransfers(trx, transfers, now);
    const run: ContributionRun = { financialYear: fy, posted: [], alreadyPosted: [], nothingDue: [] };
    const refused: { departmentCode: string; error: string }[] = [];
    results.forEach((r, i) => {
      const d = due[i] as DepartmentYear;
      if ('error' in r) {
        refused.push({ departmentCode: d.departmentCode, error: r.error });
        return;
      }
      const line = { departmentCode: d.departmentCode, amountPence: r.transfer.amount, transferId: r.id };
      (r.status === 'created' ? run.posted : run.alreadyPosted).push(line);
    });
    if (refused.length > 0) {
      throw refuse(
        FUND_REFUSALS,
        'contributions-refused',
        `No contribution was posted: the ledger refused ${refused.map((r) => `${r.departmentCode} (${r.error})`).join(', ')}.`,
        { refused },
      );
    }
    run.nothingDue = departments.filter((d) => d.contributionDuePence === 0n).map((d) => d.departmentCode);
    if (run.posted.length > 0) {
      await appendAudit(
        trx,
        {
          actor,
          action: 'contributions.posted',
          subject: `financial-year/${fy}/contributions`,
          detail: { posted: run.posted, totalPence: run.posted.reduce((s, p) => s + p.amountPence, 0n) },
          requestId,
        },
        now,
      );
    }
    return run;
  },
);

export interface FundPosition {
  financialYear: string;
  accountId: string;
  /** Top-slices received from departments. */
  contributedPence: Pence;
  /** Other money paid in (clawbacks, buy-outs). */
  otherReceiptsPence: Pence;
  /** Reserved for approved awards, not yet paid. */
  committedPence: Pence;
  /** Paid out. */
  releasedPence: Pence;
  /** Posted credits less posted debits: what the fund holds. */
  balancePence: Pence;
  /** What can still be committed: balance less commitments. */
  availablePence: Pence;
  contributions: { departmentCode: string; amountPence: Pence }[];
}

/** The fund for a year, read straight from its ledger account and transfers. */
export async function fundPosition(db: Db | Tx, fy: string): Promise<FundPosition> {
  await getFinancialYear(db, fy);
  const account = (await getAccount(db, accountIds.fund(fy))) as Account;
  const rows = await db
    .selectFrom('transfers')
    .innerJoin('accounts', 'accounts.id', 'transfers.debit_account_id')
    .select(['accounts.organisation_code as departmentCode', 'transfers.amount as amount'])
    .where('transfers.credit_account_id', '=', account.id)
    .where('transfers.code', '=', 'contribution')
    .orderBy('accounts.organisation_code')
    .execute();
  const contributions = rows.map((r) => ({ departmentCode: r.departmentCode ?? '', amountPence: BigInt(r.amount) }));
  const contributed = contributions.reduce((s, c) => s + c.amountPence, 0n);
  return {
    financialYear: fy,
    accountId: account.id,
    contributedPence: contributed,
    otherReceiptsPence: account.creditsPosted - contributed,
    committedPence: account.debitsPending,
    releasedPence: account.debitsPosted,
    balancePence: postedBalance(account),
    availablePence: availableBalance(account),
    contributions,
  };
}

async function organisationOfKind(trx: Tx, kind: 'fund' | 'exchequer'): Promise<string> {
  const row = await trx.selectFrom('organisations').select('code').where('kind', '=', kind).executeTakeFirst();
  if (!row) throw new Error(`reference data has no ${kind} organisation: load the fixtures first`);
  return row.code;
}

async function mustCreateAccounts(trx: Tx, now: Date, accounts: Parameters<typeof createAccounts>[1]): Promise<void> {
  const results = await createAccounts(trx, accounts, now);
  const failed = results.find((r) => 'error' in r);
  if (failed && 'error' in failed) throw new Error(`ledger refused account ${failed.id}: ${failed.error}`);
}

function ledgerRefusal(result: Extract<CreateTransferResult, { error: unknown }>): DomainError {
  if (result.error.startsWith('overflows_')) {
    return refuse(
      LEDGER_REFUSALS,
      'ledger-limit-reached',
      `Transfer ${result.id} would take an account past ${formatPence(MAX_AMOUNT)}, the most the ledger holds (${result.error}).`,
      { ledgerError: result.error },
    );
  }
  return refuse(LEDGER_REFUSALS, 'ledger-refused', `Transfer ${result.id} was refused: ${result.error}.`, {
    ledgerError: result.error,
  });
}

/*
 * The year's set-up as a signed-in user does it. The steps above take the `Actor` the audit log
 * records, so that the operators' CLI and test set-up can run them as the system; a user (the API,
 * a page) goes through these operations, which check who they are first.
 */

/**
 * Treasury sets up financial year `name` (`YYYY-YY`, April–March) and opens its fund and Exchequer
 * accounts. Changes: the year, two ledger accounts, a `financial-year.created` audit entry.
 * Refusals: `forbidden`; validation-error (400, not a year's name); financial-year-exists (409).
 */
export const setUpFinancialYear = operation(
  { roles: ['treasury'], refuses: ['financial-year-exists'] },
  ({ trx, principal, requestId, now }: Act, name: string): Promise<FinancialYear> =>
    createFinancialYear(trx, name, actorOf(principal), requestId, now),
);

/**
 * Treasury sets department `code`'s baseline and savings target (pence) and top-slice rate (basis
 * points) for year `fy`; see `setDepartmentYear` for what changes. Returns the terms and whether
 * they were set for the first time.
 * Refusals: `forbidden`; financial-year-not-found, department-not-found (404);
 * financial-year-closed, contribution-already-posted (409); baseline-below-committed,
 * ledger-refused, ledger-limit-reached (422).
 */
export const setDepartmentTerms = operation(
  {
    roles: ['treasury'],
    refuses: [
      'financial-year-not-found',
      'department-not-found',
      'financial-year-closed',
      'contribution-already-posted',
      'baseline-below-committed',
      'ledger-refused',
      'ledger-limit-reached',
    ],
  },
  (
    { trx, principal, requestId, now }: Act,
    fy: string,
    code: string,
    input: DepartmentYearInput,
  ): Promise<{ departmentYear: DepartmentYear; created: boolean }> =>
    setDepartmentYear(trx, fy, code, input, actorOf(principal), requestId, now),
);

const TERMS_READERS = { roles: ROLES, organisation: 'public within the scheme (src/fund/visibility.ts)' } as const;

/**
 * Every department's terms for year `fy` (baseline, rate, contribution due, target; pence and
 * basis points) that `principal` may read: all of them, by the visibility rule.
 * Refusals: financial-year-not-found (404).
 */
export const readDepartmentTerms = operation(
  { ...TERMS_READERS, refuses: ['financial-year-not-found'] },
  async ({ db, principal }: Look, fy: string): Promise<DepartmentYear[]> => {
    await getFinancialYear(db, fy);
    return (await listDepartmentYears(db, fy)).filter((d) => mayReadDepartmentFigures(principal, d.departmentCode, 'terms'));
  },
);

/**
 * One department's terms for year `fy`. Refusals: `forbidden` (if the visibility rule denied
 * it); financial-year-not-found, department-year-not-found (404).
 */
export const readDepartmentTermsOf = operation(
  { ...TERMS_READERS, refuses: ['financial-year-not-found', 'department-year-not-found'] },
  async ({ db, principal }: Look, fy: string, code: string): Promise<DepartmentYear> => {
    if (!mayReadDepartmentFigures(principal, code, 'terms')) throw forbidden(`You cannot see ${code}'s settings.`);
    await getFinancialYear(db, fy);
    const row = await findDepartmentYear(db, fy, code);
    if (!row) throw refuse(FUND_REFUSALS, 'department-year-not-found', `${code} has no settings for ${fy}.`);
    return row;
  },
);

/**
 * The fund's position for year `fy` (pence): public within the scheme, every role reads it.
 * Refusals: financial-year-not-found (404).
 */
export const readFund = operation(
  { ...TERMS_READERS, refuses: ['financial-year-not-found'] },
  ({ db }: Look, fy: string): Promise<FundPosition> => fundPosition(db, fy),
);
