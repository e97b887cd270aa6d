import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { benefitSchedule } from '../appraisal/engine.ts';
import { getDeflatorTable, getParameterSet } from '../appraisal/library.ts';
import type { VfmBand } from '../appraisal/types.ts';
import { SYSTEM } from '../audit/audit.ts';
import { reportBenefit, reviewBenefitReport } from '../benefits/benefits.ts';
import { appraisalInputOf } from '../cases/appraisal.ts';
import { createCase, submitCase } from '../cases/cases.ts';
import type { CaseInput } from '../cases/records.ts';
import { runYearCompliance } from '../compliance/compliance.ts';
import { closeFinancialYear, verifiedSavings } from '../credits/close.ts';
import { type Db, inTransaction, type Tx } from '../db/database.ts';
import { type DemoCase, demoCases, scoresFor } from '../demo/cases.ts';
import { financialYearOf, postContributions, setDepartmentTerms, setUpFinancialYear } from '../fund/fund.ts';
import type { Pence } from '../lib/money.ts';
import type { Act } from '../lib/operation.ts';
import { placeOrder } from '../market/orders.ts';
import { setMarketPrices } from '../market/prices.ts';
import { decide, recordScores, SUGGESTED_VFM_SCORE } from '../panel/panel.ts';
import { departmentOfEach, FIXTURES_DIR } from '../reference/reference.ts';
import { approveTranche, claimTranche } from '../releases/releases.ts';
import { createRound, type Round, VALUE_FOR_MONEY } from '../rounds/rounds.ts';
import { createUser, type Principal } from '../users/users.ts';
import { loadScaleReference, MORE_DEPARTMENTS } from './reference.ts';

/*
 * The national-scale data set: a fund with twenty departments and about 150 places, played for
 * a run of financial years through the same domain operations the API and the pages call (so
 * every row is checked, audited and posted as a real one is). Per year, with factor N:
 *   - treasury sets the year up, posts the top-slice and opens one round;
 *   - N × 100 councils' cases (the demo's eight cases, moved to each place and year) are drafted
 *     and submitted, scored by two panel members and decided as the demo decides them;
 *   - each approved award's three tranches are claimed and released during the year;
 *   - up to N × 2,000 benefit reports for the year are filed and verified by the departments
 *     the savings land in (fewer in the first years, while few awards are running);
 *   - treasury revises the savings targets from the verified savings (every other department
 *     just beats its target, the rest fall short), closes the year, sets the credit market's
 *     band; departments with credits offer some, departments with obligations bid; treasury
 *     runs compliance.
 * The clock is simulated: each step acts at its date within its year, the years run in order,
 * and the last year is the one before today's.
 * Work is batched where the domain allows: each step's operations run 100 cases or 1,000 benefit
 * reports to a transaction (a refusal rolls back its batch), on one connection.
 */

export interface ScaleOptions {
  /** Cases per year = factor × 100; benefit reports per year up to factor × 2,000. */
  factor: number;
  /** How many financial years to play (default 10). */
  years?: number;
  /** The last year played (YYYY-YY); default the year before today's. */
  lastYear?: string;
}

export interface ScaleProgress {
  /** Called once with the number of work items (cases per step, benefit reports per step). */
  start(total: number): void;
  /** `items` more work items done; `operations` domain operations run so far. */
  advance(items: number, operations: number): void;
}

export interface ScaleSummary {
  financialYears: string[];
  places: number;
  departments: number;
  cases: number;
  approved: number;
  tranchesReleased: number;
  benefitReports: number;
  benefitReportsVerified: number;
  trades: number;
  complianceRuns: number;
  /** Domain operations run. */
  operations: number;
  /** How long the build took, in seconds of wall time. */
  seconds: number;
}

interface DemoDepartments {
  departments: { code: string; baselinePence: number; topSliceBasisPoints: number; savingsTargetPence: number }[];
}

/** A generated case as the later steps need it. */
interface Played {
  id: string;
  reference: string;
  council: Principal;
  outcome: DemoCase['demo']['expectedOutcome'];
  /** The value-for-money band of the appraisal stored at submission, which the panel sees. */
  vfmBand: VfmBand | null;
  approved: boolean;
}

/** One benefit line's appraised value for a year, attributed to a department. */
interface Due {
  caseId: string;
  council: Principal;
  line: number;
  year: string;
  appraisedPence: Pence;
  departmentCode: string;
}

const DAY = 86_400_000;
const REPORT_BATCH = 1000;
const CASE_BATCH = 100;
const EVIDENCE = 'Case-level activity data matched to the beneficiary’s records for the year.';

/** The financial year `offset` years after `fy` (negative: before). */
export function shiftYear(fy: string, offset: number): string {
  const start = Number(fy.slice(0, 4)) + offset;
  return `${start}-${String((start + 1) % 100).padStart(2, '0')}`;
}

/** The years played: `count` consecutive years ending with `last`. */
export function scaleYears(count: number, last = shiftYear(financialYearOf(new Date()), -1)): string[] {
  return Array.from({ length: count }, (_, i) => shiftYear(last, i - count + 1));
}

/** When the simulated clock starts: two days before the first year played. */
export function scaleClockStart(options: Pick<ScaleOptions, 'years' | 'lastYear'>): Date {
  return new Date(yearStart(scaleYears(options.years ?? 10, options.lastYear)[0] as string) - 2 * DAY);
}

/** Cases per year and the cap on benefit reports per year at `factor`. */
export function perYear(factor: number): { cases: number; reports: number } {
  return { cases: Math.max(1, Math.round(factor * 100)), reports: Math.max(1, Math.round(factor * 2000)) };
}

/**
 * Builds the data set in `db` (migrated, with the reference fixtures loaded, and none of the
 * years played set up yet). Who: the operator (it creates the users it acts as, as the system;
 * their tokens are issued on simulated dates). Changes: the scale reference data, and everything
 * the steps above do, each audited by its operation. Returns counts of what it built. Amounts
 * are pence, rates basis points, as the operations take them. Refusals: any refusal of a domain
 * operation stops it (that batch's transaction is rolled back; earlier batches stay).
 */
export async function seedScale(db: Db, options: ScaleOptions, progress?: ScaleProgress): Promise<ScaleSummary> {
  const started = Date.now();
  const years = scaleYears(options.years ?? 10, options.lastYear);
  const { cases: casesPerYear, reports: reportCap } = perYear(options.factor);
  let clock = scaleClockStart(options).getTime();
  const tick = () => {
    clock += 1000;
    return new Date(clock);
  };
  let operations = 0;
  const act = (trx: Tx, principal: Principal, at: Date): Act => {
    operations++;
    return { trx, principal, requestId: null, now: at };
  };
  progress?.start(years.length * (4 * casesPerYear + 2 * reportCap));
  const advance = (items: number) => progress?.advance(items, operations);

  const { places } = await loadScaleReference(db, tick());
  const templates = demoCases();
  const demo = JSON.parse(readFileSync(join(FIXTURES_DIR, 'demo', 'departments-2026-27.json'), 'utf8')) as DemoDepartments;
  const orgs = await db.selectFrom('organisations').select(['code', 'kind', 'place_code', 'department_code']).execute();
  const departments = orgs.filter((o) => o.kind === 'department').map((o) => o.code);
  const kindOf = new Map(orgs.map((o) => [o.code, o]));
  const placeRows = await db.selectFrom('places').select(['code']).orderBy('code').execute();
  const leads = placeRows.map((p) => {
    const council = orgs.filter((o) => o.kind === 'council' && o.place_code === p.code).sort((a, b) => a.code.localeCompare(b.code))[0];
    if (!council) throw new Error(`place ${p.code} has no council`);
    return { placeCode: p.code, councilCode: council.code };
  });
  const departmentOf = await departmentOfEach(db);
  // Departments beyond the demo's eight: illustrative terms of the same order, not official figures.
  const terms = departments.map((code) => {
    const d = demo.departments.find((x) => x.code === code);
    return {
      code,
      baselinePence: BigInt(d?.baselinePence ?? (MORE_DEPARTMENTS.some((m) => m.code === code) ? 300_000_000_000 : 500_000_000_000)),
      topSliceBasisPoints: (d?.topSliceBasisPoints ?? 20) * Math.max(1, Math.ceil(options.factor / 4)),
      savingsTargetPence: BigInt(d?.savingsTargetPence ?? 500_000_000),
    };
  });

  // The people who work the years: created by the operator, as `cli create-user` does.
  const users = await inTransaction(db, async (trx) => {
    const make = async (name: string, role: Principal['role'], organisationCode: string | null = null, isChair = false) =>
      (await createUser(trx, { name, role, organisationCode, isChair }, SYSTEM, null, tick())).user;
    const treasury = await make('Fund administrator (HM Treasury)', 'treasury');
    const chair = await make('Panel chair (HM Treasury)', 'panel', null, true);
    const scorer = await make('Panel member (DHSC)', 'panel');
    const approvers = [await make('Panel member (MoJ)', 'panel'), await make('Panel member (Home Office)', 'panel')];
    const desks = new Map<string, Principal>();
    for (const code of departments) desks.set(code, await make(`${code} finance team`, 'department', code));
    const councils = new Map<string, Principal>();
    for (const l of leads) councils.set(l.councilCode, await make(`${l.councilCode} case lead`, 'council', l.councilCode));
    return { treasury, chair, scorer, approvers, desks, councils };
  });

  const summary: ScaleSummary = {
    financialYears: years,
    places,
    departments: departments.length,
    cases: 0,
    approved: 0,
    tranchesReleased: 0,
    benefitReports: 0,
    benefitReportsVerified: 0,
    trades: 0,
    complianceRuns: 0,
    operations: 0,
    seconds: 0,
  };
  let dues: Due[] = [];
  let caseNumber = 0;

  for (const fy of years) {
    const start = yearStart(fy);
    const on = (days: number) => {
      clock = Math.max(clock, start + days * DAY);
      return new Date(start + days * DAY).toISOString().slice(0, 10);
    };

    // Set-up: the year, each department's terms, the top-slice, the round.
    on(0);
    const round = await inTransaction(db, async (trx) => {
      await setUpFinancialYear(act(trx, users.treasury, tick()), fy);
      for (const t of terms) {
        const { code, ...input } = t;
        await setDepartmentTerms(act(trx, users.treasury, tick()), fy, code, input);
      }
      const posted = await postContributions(act(trx, users.treasury, tick()), fy);
      const envelope = posted.posted.reduce((s, p) => s + p.amountPence, 0n);
      return createRound(act(trx, users.treasury, tick()), {
        financialYear: fy,
        name: `Prevention Fund ${fy}: round 1`,
        envelopePence: envelope,
        opensOn: on(0),
        closesOn: on(120),
        minMatchFundingBasisPoints: 1000,
        themes: [],
        quorum: 2,
      });
    });
    const [params, deflators] = await Promise.all([
      getParameterSet(db, round.parameterSet.name, round.parameterSet.version),
      getDeflatorTable(db, round.deflatorEdition),
    ]);

    // Councils draft and submit.
    on(20);
    const drafts = Array.from({ length: casesPerYear }, () => {
      const n = caseNumber++;
      const template = templates[n % templates.length] as DemoCase;
      const lead = leads[n % leads.length] as (typeof leads)[number];
      return {
        template,
        council: users.councils.get(lead.councilCode) as Principal,
        input: caseAt(template, fy, round, lead, n, departments, kindOf),
      };
    });
    const played: Played[] = [];
    await inBatches(
      drafts,
      CASE_BATCH,
      async (trx, d) => {
        const c = await createCase(act(trx, d.council, tick()), d.input);
        const { appraisal } = await submitCase(act(trx, d.council, tick()), c.id);
        return { c, vfmBand: appraisal.vfmBand };
      },
      ({ c, vfmBand }, d) => {
        played.push({
          id: c.id,
          reference: c.reference,
          council: d.council,
          outcome: d.template.demo.expectedOutcome,
          vfmBand,
          approved: false,
        });
        for (const v of benefitSchedule(appraisalInputOf(c), params, deflators)) {
          const beneficiary = c.benefits[v.line]?.beneficiaryCode;
          const departmentCode = beneficiary ? departmentOf.get(beneficiary) : null;
          if (departmentCode && v.valuePence > 0n && d.template.demo.expectedOutcome === 'approve')
            dues.push({ caseId: c.id, council: d.council, line: v.line, year: v.year, appraisedPence: v.valuePence, departmentCode });
        }
        summary.cases++;
      },
    );

    // The panel scores and decides; an approved award's first tranche is claimed and released.
    on(130);
    await inBatches(
      played,
      CASE_BATCH,
      async (trx, p) => {
        // The score the scoreboard suggests for value for money, from the band of the stored appraisal.
        const suggested = p.vfmBand && round.criteria.some((k) => k.key === VALUE_FOR_MONEY) ? SUGGESTED_VFM_SCORE[p.vfmBand] : null;
        for (const [i, member] of [users.chair, users.scorer].entries()) {
          await recordScores(act(trx, member, tick()), p.id, scoresFor(p.outcome, suggested, i));
        }
        await decide(act(trx, users.chair, tick()), p.id, decisionFor(p.outcome, p.vfmBand, on(130)));
        if (p.outcome !== 'approve') return false;
        await release(trx, p, 1);
        return true;
      },
      (approved, p) => {
        p.approved = approved;
        if (approved) summary.approved++;
      },
    );

    // The second and third tranches, when they fall due.
    const awards = played.filter((p) => p.approved);
    for (const [n, day] of [
      [2, 190],
      [3, 250],
    ] as const) {
      on(day);
      await inBatches(awards, CASE_BATCH, (trx, p) => release(trx, p, n));
      advance(played.length - awards.length);
    }

    // Councils report the year's benefits; the departments they land in verify them.
    on(290);
    const reports: { id: string; departmentCode: string }[] = [];
    const due = dues.filter((d) => d.year === fy).slice(0, reportCap);
    await inBatches(
      due,
      REPORT_BATCH,
      async (trx, d, i) => {
        // Councils achieve somewhere between 80% and 105% of what was appraised (as the demo's do).
        const claimed = (d.appraisedPence * BigInt(80 + ((i * 7) % 26))) / 100n;
        const r = await reportBenefit(act(trx, d.council, tick()), d.caseId, {
          benefitLineIndex: d.line,
          year: fy,
          claimedPence: claimed > 0n ? claimed : 1n,
          evidence: EVIDENCE,
        });
        return { id: r.id, departmentCode: d.departmentCode };
      },
      (r) => {
        reports.push(r);
        summary.benefitReports++;
      },
    );
    advance(reportCap - due.length);
    on(320);
    await inBatches(
      reports,
      REPORT_BATCH,
      (trx, r) => reviewBenefitReport(act(trx, users.desks.get(r.departmentCode) as Principal, tick()), r.id, { verify: true }),
      () => {
        summary.benefitReportsVerified++;
      },
    );
    advance(reportCap - due.length);

    // Year end: targets revised from the verified savings, the close, the market, compliance.
    on(360);
    const close = await inTransaction(db, async (trx) => {
      const savings = await verifiedSavings(trx, fy);
      for (const [i, t] of terms.entries()) {
        const verified = savings.get(t.code)?.cashablePence ?? 0n;
        // Every other department beats its target by a fifth; the rest fall short by a fifth (or owe £50,000 with nothing verified).
        const target = verified === 0n ? 5_000_000n : i % 2 === 0 ? (verified * 80n) / 100n : (verified * 120n) / 100n;
        await setDepartmentTerms(act(trx, users.treasury, tick()), fy, t.code, {
          baselinePence: t.baselinePence,
          topSliceBasisPoints: t.topSliceBasisPoints,
          savingsTargetPence: target,
        });
      }
      return (await closeFinancialYear(act(trx, users.treasury, tick()), fy)).close;
    });
    summary.trades += await inTransaction(db, async (trx) => {
      await setMarketPrices(act(trx, users.treasury, tick()), fy, { floorPence: 50n, ceilingPence: 120n });
      let trades = 0;
      for (const d of close.departments) {
        if (d.creditsIssued < 10n) continue;
        const offer = await placeOrder(act(trx, users.desks.get(d.departmentCode) as Principal, tick()), {
          financialYear: fy,
          side: 'sell',
          quantity: d.creditsIssued / 2n,
          limitPricePence: 100n,
          vintage: fy,
        });
        trades += offer.fills.length;
      }
      for (const d of close.departments) {
        if (d.obligationCredits === 0n) continue;
        const bid = await placeOrder(act(trx, users.desks.get(d.departmentCode) as Principal, tick()), {
          financialYear: fy,
          side: 'buy',
          quantity: (d.obligationCredits + 1n) / 2n,
          limitPricePence: 110n,
        });
        trades += bid.fills.length;
      }
      return trades;
    });
    await inTransaction(db, (trx) => runYearCompliance(act(trx, users.treasury, tick()), fy));
    summary.complianceRuns++;
    dues = dues.filter((d) => d.year > fy);
  }

  /**
   * Runs `work` for each item, `size` items to a transaction, then `done` for each result once
   * its transaction has committed; each item is one work item of the progress count.
   */
  async function inBatches<T, R>(
    items: T[],
    size: number,
    work: (trx: Tx, item: T, index: number) => Promise<R>,
    done?: (result: R, item: T) => void,
  ): Promise<void> {
    for (let i = 0; i < items.length; i += size) {
      const batch = items.slice(i, i + size);
      const results = await inTransaction(db, async (trx) => {
        const out: R[] = [];
        for (const [j, item] of batch.entries()) out.push(await work(trx, item, i + j));
        return out;
      });
      for (const [j, r] of results.entries()) done?.(r, batch[j] as T);
      advance(batch.length);
    }
  }

  /** Claims tranche `n` of an approved case and has independent members approve it until it is released. */
  async function release(trx: Tx, p: Played, n: number): Promise<void> {
    await claimTranche(
      act(trx, p.council, tick()),
      p.id,
      n,
      `Evidence for tranche ${n}: milestone reached and signed off by the partnership board.`,
    );
    for (const member of users.approvers) {
      const t = await approveTranche(act(trx, member, tick()), p.id, n);
      if (t.status === 'released') {
        summary.tranchesReleased++;
        return;
      }
    }
    throw new Error(`tranche ${n} of ${p.reference} was not released by the panel's approvers`);
  }

  summary.operations = operations;
  summary.seconds = (Date.now() - started) / 1000;
  return summary;
}

/** 1 April of year `fy`, 09:00 UTC, in milliseconds. */
function yearStart(fy: string): number {
  return Date.UTC(Number(fy.slice(0, 4)), 3, 1, 9);
}

/** The decision the demo's panel makes on a case like this one (src/demo/cases.ts), with tranches due during the year. */
function decisionFor(outcome: DemoCase['demo']['expectedOutcome'], band: string | null, decidedOn: string): Parameters<typeof decide>[2] {
  if (outcome === 'approve') {
    return {
      outcome: 'approve',
      reasons: `Ranked within the envelope with ${band} value for money; partners and match funding are committed.`,
      conditions: ['Quarterly benefits reports to the beneficiary departments', 'Independent evaluation against a comparison group'],
      tranches: [
        { basisPoints: 4000, earliestOn: decidedOn, condition: 'Signed partnership agreement and mobilisation plan' },
        { basisPoints: 3500, earliestOn: addDays(decidedOn, 60), condition: 'Service live with the first cohort engaged' },
        { basisPoints: 2500, earliestOn: addDays(decidedOn, 120), condition: 'First-year outcomes evidenced and verified' },
      ],
    };
  }
  if (outcome === 'reject')
    return {
      outcome: 'reject',
      reasons: 'Poor value for money on weak evidence; the panel invites a resubmission with a comparison group.',
    };
  return { outcome: 'defer', reasons: 'Medium value for money; deferred to the next meeting for a firmer deliverability plan.' };
}

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10);
}

/**
 * The demo case `template` as council `lead` would file it in `round`: its years moved to the
 * round's year; the template place's councils become the lead council; a local partner body
 * becomes the department it answers to; and departments are rotated by the case's number, so
 * the savings land across all twenty departments.
 */
function caseAt(
  template: DemoCase,
  fy: string,
  round: Round,
  lead: { placeCode: string; councilCode: string },
  n: number,
  departments: string[],
  orgs: Map<string, { kind: string; department_code: string | null }>,
): CaseInput {
  const offset = Number(fy.slice(0, 4)) - Number(String(template.body.baseYear).slice(0, 4));
  const move = (year: string) => shiftYear(year, offset);
  const rotate = (code: string) => departments[(departments.indexOf(code) + n) % departments.length] as string;
  const mapOrg = (code: string): string => {
    const o = orgs.get(code);
    if (!o) return code;
    if (o.kind === 'council') return lead.councilCode;
    if (o.kind === 'department') return rotate(code);
    if (o.kind === 'partner' && o.department_code) return rotate(o.department_code);
    return code;
  };
  const body = template.body as unknown as CaseInput & {
    costs: (Omit<CaseInput['costs'][number], 'amountPence'> & { amountPence: number })[];
    benefits: (CaseInput['benefits'][number] & { unitValuePence?: number })[];
    matchFundingPence: number;
  };
  const partners = [...new Set(body.partnerCodes.map(mapOrg))].filter((c) => c !== lead.councilCode);
  for (let k = 1; partners.length < 2; k++) partners.push(rotate(departments[k] as string));
  const yearKeys = (r?: Record<string, number>) => (r ? Object.fromEntries(Object.entries(r).map(([y, v]) => [move(y), v])) : undefined);
  return {
    roundId: round.id,
    title: `${template.body.title as string} (${lead.placeCode})`,
    placeCode: lead.placeCode,
    theme: body.theme,
    partnerCodes: [...new Set(partners)],
    matchFundingPence: BigInt(body.matchFundingPence),
    baseYear: move(body.baseYear),
    narrative: body.narrative,
    costs: body.costs.map((c) => ({ ...c, year: move(c.year), payerCode: mapOrg(c.payerCode), amountPence: BigInt(c.amountPence) })),
    benefits: body.benefits.map((b) => {
      const { volumes, need, unitValuePence, ...rest } = b;
      return {
        ...rest,
        ...(b.beneficiaryCode ? { beneficiaryCode: mapOrg(b.beneficiaryCode) } : {}),
        ...(volumes ? { volumes: yearKeys(volumes) } : {}),
        ...(need ? { need: yearKeys(need) } : {}),
        ...(unitValuePence !== undefined ? { unitValuePence: BigInt(unitValuePence) } : {}),
      };
    }),
  };
}
