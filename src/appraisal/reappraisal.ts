import { appraiseUnder, caseAppraisal, reviveAppraisal } from '../cases/appraisal.ts';
import { type Case, caseFromRow } from '../cases/records.ts';
import { SUBMITTED_STATUSES } from '../cases/visibility.ts';
import type { Db, Tx } from '../db/database.ts';
import { DomainError, invalid } from '../lib/errors.ts';
import { refuse } from '../lib/refusals.ts';
import { getRound } from '../rounds/rounds.ts';
import { getDeflatorTable, getParameterSet } from './library.ts';
import { APPRAISAL_REFUSALS } from './refusals.ts';
import type { AppraisalResult, ParameterSet, VfmBand } from './types.ts';

/*
 * Re-appraisal under another parameter vintage. A case is recomputed, exactly, under any stored parameter set
 * (name@version) with the GDP deflator edition its round uses, and compared with its stored appraisal (a
 * draft: with its appraisal under its round's set, computed now). Nothing is written: the stored appraisal
 * never changes. A round's re-appraisal does the same for every submitted case and ranks them both ways by
 * value for money (BCR, highest first; cases without a BCR last; ties by reference), so the panel can see
 * which cases would move.
 */

/** "local-partnerships-cba@2014.1" → name and version; a refusal naming the query parameter otherwise. */
export function parseParameterSetRef(ref: string): { name: string; version: string } {
  const at = ref.lastIndexOf('@');
  if (at <= 0 || at === ref.length - 1) {
    throw invalid([{ parameter: 'parameterSet', detail: 'must name a parameter set as name@version, e.g. local-partnerships-cba@2014.1' }]);
  }
  return { name: ref.slice(0, at), version: ref.slice(at + 1) };
}

/** The stored parameter set named by `ref` (name@version); a 400 naming the `parameterSet` query parameter if none. */
async function parameterSetFor(db: Db | Tx, ref: string): Promise<ParameterSet> {
  const { name, version } = parseParameterSetRef(ref);
  try {
    return await getParameterSet(db, name, version);
  } catch (error) {
    if (error instanceof DomainError && error.kind === 'not-found') {
      throw invalid([{ parameter: 'parameterSet', detail: `there is no appraisal parameter set ${name}@${version}` }]);
    }
    throw error;
  }
}

/** Change from one appraisal to another: money as differences (after − before), the rest as from → to. */
export interface AppraisalDifference {
  pvCostsPence: bigint;
  pvBenefitsPence: { fiscal: bigint; economic: bigint; social: bigint };
  fiscalNpvPence: bigint;
  publicValueNpvPence: bigint;
  fiscalRoi: { from: number | null; to: number | null };
  bcr: { from: number | null; to: number | null };
  vfmBand: { from: VfmBand | null; to: VfmBand | null };
  paybackYear: { from: string | null; to: string | null };
}

/**
 * The change from appraisal `before` to appraisal `after` of the same case: pence as exact differences of the
 * reported (already rounded) figures, so each difference is what a reader gets by subtracting the two printed
 * figures; ratios, band and payback year as from → to. Pure; no refusals.
 */
export function differenceOf(before: AppraisalResult, after: AppraisalResult): AppraisalDifference {
  return {
    pvCostsPence: after.pvCostsPence - before.pvCostsPence,
    pvBenefitsPence: {
      fiscal: after.pvBenefitsPence.fiscal - before.pvBenefitsPence.fiscal,
      economic: after.pvBenefitsPence.economic - before.pvBenefitsPence.economic,
      social: after.pvBenefitsPence.social - before.pvBenefitsPence.social,
    },
    fiscalNpvPence: after.fiscalNpvPence - before.fiscalNpvPence,
    publicValueNpvPence: after.publicValueNpvPence - before.publicValueNpvPence,
    fiscalRoi: { from: before.fiscalRoi, to: after.fiscalRoi },
    bcr: { from: before.bcr, to: after.bcr },
    vfmBand: { from: before.vfmBand, to: after.vfmBand },
    paybackYear: { from: before.paybackYear, to: after.paybackYear },
  };
}

export interface CaseReappraisal {
  result: AppraisalResult;
  comparedWith: { result: AppraisalResult; stored: boolean; computedAt: string | null };
  difference: AppraisalDifference;
}

/**
 * Recomputes case `c` under parameter set `ref` (name@version) and compares it with its stored appraisal.
 * Callers check the reader may see the case. Reads only. Refusals: `parameterSet` malformed or unknown (400,
 * naming the parameter); the case cannot be appraised (422 appraisal-not-possible / appraisal-out-of-range).
 */
export async function reappraiseCase(db: Db | Tx, c: Case, ref: string): Promise<CaseReappraisal> {
  const params = await parameterSetFor(db, ref);
  const round = await getRound(db, c.roundId);
  const deflators = await getDeflatorTable(db, round.deflatorEdition);
  const comparedWith = await caseAppraisal(db, c);
  const result = appraiseUnder(c, params, deflators, ` under ${params.name}@${params.version}`);
  return { result, comparedWith, difference: differenceOf(comparedWith.result, result) };
}

export interface RoundReappraisalRow {
  caseId: string;
  reference: string;
  title: string;
  status: string;
  stored: {
    parameterSet: { name: string; version: string };
    fiscalNpvPence: bigint;
    bcr: number | null;
    vfmBand: VfmBand | null;
    rank: number;
  };
  reappraised: { fiscalNpvPence: bigint; bcr: number | null; vfmBand: VfmBand | null; rank: number };
  change: { fiscalNpvPence: bigint; publicValueNpvPence: bigint; rank: number };
}

/** Ranks by exact-as-reported BCR, highest first; no BCR last; ties by reference. Returns rank by index. */
function ranks(rows: { reference: string; bcr: number | null }[]): number[] {
  const order = rows
    .map((r, i) => ({ ...r, i }))
    .sort((a, b) => {
      if (a.bcr !== b.bcr) {
        if (a.bcr === null) return 1;
        if (b.bcr === null) return -1;
        return b.bcr - a.bcr;
      }
      return a.reference < b.reference ? -1 : a.reference > b.reference ? 1 : 0;
    });
  const out = new Array<number>(rows.length);
  order.forEach((r, k) => {
    out[r.i] = k + 1;
  });
  return out;
}

/**
 * Every submitted case of round `roundId` (any status but draft) recomputed under parameter set `ref`, with
 * its change in fiscal NPV, BCR, VfM band and value-for-money rank against its stored appraisal; rows by
 * reference. For panel, treasury and auditors. Reads only: cases and stored appraisals are loaded in two
 * queries. Refusals: no such round (404); `parameterSet` malformed or unknown (400); a case that cannot be
 * appraised (422), or with no stored appraisal (422 appraisal-missing).
 */
export async function reappraiseRound(
  db: Db | Tx,
  roundId: string,
  ref: string,
): Promise<{ parameterSet: ParameterSet; rows: RoundReappraisalRow[] }> {
  const round = await getRound(db, roundId);
  const params = await parameterSetFor(db, ref);
  const deflators = await getDeflatorTable(db, round.deflatorEdition);
  const caseRows = await db
    .selectFrom('cases')
    .selectAll()
    .where('round_id', '=', roundId)
    .where('status', 'in', SUBMITTED_STATUSES)
    .orderBy('reference')
    .execute();
  const stored = await db
    .selectFrom('appraisals')
    .select(['case_id', 'revision', 'result'])
    .where('case_id', 'in', db.selectFrom('cases').select('id').where('round_id', '=', roundId).where('status', 'in', SUBMITTED_STATUSES))
    .execute();
  const latest = new Map<string, { revision: number; result: string }>();
  for (const s of stored) {
    const revision = Number(s.revision);
    const seen = latest.get(s.case_id);
    if (!seen || seen.revision < revision) latest.set(s.case_id, { revision, result: s.result });
  }
  const items = caseRows.map((row) => {
    const c = caseFromRow(row);
    const found = latest.get(c.id);
    if (!found) {
      throw refuse(APPRAISAL_REFUSALS, 'appraisal-missing', `Case ${c.reference} has no stored appraisal to compare with.`);
    }
    const before = reviveAppraisal(found.result);
    return { c, before, after: appraiseUnder(c, params, deflators, ` under ${params.name}@${params.version}`) };
  });
  const before = ranks(items.map((x) => ({ reference: x.c.reference, bcr: x.before.bcr })));
  const after = ranks(items.map((x) => ({ reference: x.c.reference, bcr: x.after.bcr })));
  const rows = items.map((x, i) => ({
    caseId: x.c.id,
    reference: x.c.reference,
    title: x.c.title,
    status: x.c.status,
    stored: {
      parameterSet: { name: x.before.parameterSet.name, version: x.before.parameterSet.version },
      fiscalNpvPence: x.before.fiscalNpvPence,
      bcr: x.before.bcr,
      vfmBand: x.before.vfmBand,
      rank: before[i]!,
    },
    reappraised: { fiscalNpvPence: x.after.fiscalNpvPence, bcr: x.after.bcr, vfmBand: x.after.vfmBand, rank: after[i]! },
    change: {
      fiscalNpvPence: x.after.fiscalNpvPence - x.before.fiscalNpvPence,
      publicValueNpvPence: x.after.publicValueNpvPence - x.before.publicValueNpvPence,
      rank: after[i]! - before[i]!,
    },
  }));
  return { parameterSet: params, rows };
}
