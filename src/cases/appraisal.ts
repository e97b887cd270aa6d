import { AppraisalInputError, appraise } from '../appraisal/engine.ts';
import { getDeflatorTable, getParameterSet } from '../appraisal/library.ts';
import { APPRAISAL_REFUSALS } from '../appraisal/refusals.ts';
import type { AppraisalInput, AppraisalResult, DeflatorTable, ParameterSet } from '../appraisal/types.ts';
import type { Db, Tx } from '../db/database.ts';
import { refuse } from '../lib/refusals.ts';
import { getRound } from '../rounds/rounds.ts';
import type { Case } from './records.ts';

/*
 * A case's appraisal: the engine (src/appraisal/engine.ts) run on the case with its round's
 * parameter set and deflators, and the appraisal stored at submission.
 */

export function appraisalInputOf(c: Case): AppraisalInput {
  return {
    baseYear: c.baseYear,
    discountSchedule: c.discountSchedule,
    costs: c.costs.map((l) => ({ ...l })),
    benefits: c.benefits.map((b) => ({
      outcome: b.outcome,
      beneficiaryCode: b.beneficiaryCode,
      type: b.type,
      // A stored line always has `cashable`; its share, when given, is what counts.
      ...(b.cashableBasisPoints === undefined ? { cashable: b.cashable } : { cashableBasisPoints: b.cashableBasisPoints }),
      unitValuePence: b.unitValuePence,
      priceYear: b.priceYear,
      ...(b.need === undefined ? { volumes: b.volumes } : { need: b.need, engagementBasisPoints: b.engagementBasisPoints }),
      impactBasisPoints: b.impactBasisPoints,
      deadweightBasisPoints: b.deadweightBasisPoints,
      ...(b.displacementBasisPoints === undefined ? {} : { displacementBasisPoints: b.displacementBasisPoints }),
      ...(b.lagYears === undefined ? {} : { lagYears: b.lagYears }),
      ...(b.dropOffBasisPoints === undefined ? {} : { dropOffBasisPoints: b.dropOffBasisPoints }),
      persistenceYears: b.persistenceYears,
      confidenceGrade: b.confidenceGrade,
    })),
  };
}

/** Appraises a case with its round's parameter set and deflators. Input the engine cannot use is a 422 with pointers. */
export async function appraiseCase(db: Db | Tx, c: Case): Promise<AppraisalResult> {
  const round = await getRound(db, c.roundId);
  const [params, deflators] = await Promise.all([
    getParameterSet(db, round.parameterSet.name, round.parameterSet.version),
    getDeflatorTable(db, round.deflatorEdition),
  ]);
  return appraiseUnder(c, params, deflators);
}

/**
 * Case `c` appraised under `params` with `deflators` (`under` names them in a refusal when they are
 * not the round's). Refusals: appraisal-not-possible (422: the case's lines cannot be appraised, with
 * the engine's pointers), appraisal-out-of-range (422: a figure too large for JSON money).
 */
export function appraiseUnder(c: Case, params: ParameterSet, deflators: DeflatorTable | null, under = ''): AppraisalResult {
  try {
    const result = appraise(appraisalInputOf(c), params, deflators);
    if (!withinJson(result)) {
      throw refuse(
        APPRAISAL_REFUSALS,
        'appraisal-out-of-range',
        `${c.reference}'s figures${under} exceed what money fields can carry exactly (about £90 trillion): check its volumes and unit values.`,
      );
    }
    return result;
  } catch (error) {
    // A draft the engine cannot appraise is not a bad request: it is a case not yet ready.
    if (error instanceof AppraisalInputError) {
      throw refuse(APPRAISAL_REFUSALS, 'appraisal-not-possible', error.message, {}, error.errors);
    }
    throw error;
  }
}

/**
 * Every figure in a result fits an exact JSON number: amounts and whole numbers are safe integers, and the
 * 4-dp ratios (fiscalRoi, bcr) are below 2^53 / 10^4, so their digits are exact too.
 */
export function withinJson(value: unknown, key = ''): boolean {
  if (typeof value === 'bigint') return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= -BigInt(Number.MAX_SAFE_INTEGER);
  if (typeof value === 'number') {
    if (key === 'fiscalRoi' || key === 'bcr') return Number.isFinite(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER / 10_000;
    return Number.isSafeInteger(value);
  }
  if (Array.isArray(value)) return value.every((v) => withinJson(v));
  if (value !== null && typeof value === 'object') return Object.entries(value).every(([k, v]) => withinJson(v, k));
  return true;
}

/** A submitted case's appraisal as stored at submission; a draft's, computed now. */
export async function caseAppraisal(
  db: Db | Tx,
  c: Case,
): Promise<{ result: AppraisalResult; stored: boolean; computedAt: string | null }> {
  if (c.status !== 'draft') {
    const row = await db.selectFrom('appraisals').selectAll().where('case_id', '=', c.id).orderBy('revision', 'desc').executeTakeFirst();
    if (row) return { result: reviveAppraisal(row.result), stored: true, computedAt: row.computed_at };
  }
  return { result: await appraiseCase(db, c), stored: false, computedAt: null };
}

/**
 * The appraisals of many cases at once, as `caseAppraisal` gives each: the stored ones (the latest
 * revision of each submitted case) read together, a few hundred a query; any other computed now.
 * A case that cannot be appraised maps to null.
 */
export async function caseAppraisals(db: Db | Tx, cases: Case[]): Promise<Map<string, { result: AppraisalResult } | null>> {
  const out = new Map<string, { result: AppraisalResult } | null>();
  const submitted = cases.filter((c) => c.status !== 'draft').map((c) => c.id);
  for (let i = 0; i < submitted.length; i += 500) {
    const rows = await db
      .selectFrom('appraisals')
      .select(['case_id', 'revision', 'result'])
      .where('case_id', 'in', submitted.slice(i, i + 500))
      .orderBy('case_id')
      .orderBy('revision', 'desc')
      .execute();
    for (const r of rows) if (!out.has(r.case_id)) out.set(r.case_id, { result: reviveAppraisal(r.result) });
  }
  for (const c of cases) if (!out.has(c.id)) out.set(c.id, await caseAppraisal(db, c).catch(() => null));
  return out;
}

/** JSON with bigints as `{"$bigint":"…"}`, so a stored appraisal comes back exactly. */
export function storeAppraisal(result: AppraisalResult): string {
  return JSON.stringify(result, (_k, v) => (typeof v === 'bigint' ? { $bigint: v.toString() } : v));
}

export function reviveAppraisal(json: string): AppraisalResult {
  return revive(JSON.parse(json)) as AppraisalResult;
}

/** Turns every `{"$bigint":"…"}` in parsed JSON back into a bigint, in place (a walk: JSON.parse's reviver is several times slower). */
function revive(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = revive(v[i]);
    return v;
  }
  const o = v as Record<string, unknown>;
  if (typeof o.$bigint === 'string') return BigInt(o.$bigint);
  for (const k of Object.keys(o)) o[k] = revive(o[k]);
  return o;
}
