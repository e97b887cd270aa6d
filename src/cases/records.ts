import { sql } from 'kysely';
import type { BenefitLine as AppraisalBenefitLine, CostLine as AppraisalCostLine, DiscountScheduleName } from '../appraisal/types.ts';
import { type Db, isPostgres, type Tx } from '../db/database.ts';
import { prepared } from '../db/prepared.ts';
import type { Pence } from '../lib/money.ts';
import { refuse } from '../lib/refusals.ts';
import type { CaseStatus } from './lifecycle.ts';
import { CASES_REFUSALS } from './refusals.ts';

/*
 * A business case as it is kept: its shape (the Green Book five cases, cost and benefit lines in
 * pence), reading it and locking it to change it, and its row. The rules about a case live beside
 * it: who may see it (./visibility.ts), when it may be submitted (./eligibility.ts), how it moves
 * between statuses (./lifecycle.ts); drafting and submitting are in ./cases.ts.
 */

export const NARRATIVE_SECTIONS = ['strategic', 'economic', 'commercial', 'financial', 'management'] as const;
export type NarrativeSection = (typeof NARRATIVE_SECTIONS)[number];

/** A cost line: as the appraisal takes it (src/appraisal/types.ts). */
export type CostLine = AppraisalCostLine;

/**
 * A benefit line as a council enters it: the appraisal's line (src/appraisal/types.ts), whose unit value
 * and price year may instead come from the Unit Cost Database (`unitCostCode`), with its source.
 */
export interface BenefitLineInput extends Omit<AppraisalBenefitLine, 'beneficiaryCode' | 'unitValuePence' | 'priceYear'> {
  beneficiaryCode?: string | null;
  unitCostCode?: string;
  unitValuePence?: Pence;
  priceYear?: string;
  source?: string;
}

/**
 * A benefit line as stored: its unit value resolved (from the Unit Cost Database if picked from it), and
 * `cashable` always present: true only for a wholly cashable line (a partly cashable line keeps its share in
 * `cashableBasisPoints` and counts as not cashable where a yes/no is needed, such as the benefits register).
 */
export interface BenefitLine extends Omit<BenefitLineInput, 'unitValuePence' | 'priceYear' | 'source' | 'beneficiaryCode' | 'cashable'> {
  beneficiaryCode: string | null;
  cashable: boolean;
  unitCostCode?: string;
  unitValuePence: Pence;
  priceYear: string;
  source: string;
}

export interface CaseInput {
  roundId: string;
  title: string;
  placeCode: string;
  theme: string;
  partnerCodes: string[];
  matchFundingPence: Pence;
  baseYear: string;
  discountSchedule?: DiscountScheduleName;
  narrative: Record<NarrativeSection, string>;
  costs: CostLine[];
  benefits: BenefitLineInput[];
}

/** A case reference's shape (TP-<financial year>-<number>, as `caseReference` in ./cases.ts writes it). */
export const CASE_REFERENCE = /^TP-\d{4}-\d{2}-\d{3,15}$/;

export interface Case {
  id: string;
  reference: string;
  roundId: string;
  leadCouncilCode: string;
  status: CaseStatus;
  revision: number;
  title: string;
  placeCode: string;
  theme: string;
  partnerCodes: string[];
  matchFundingPence: Pence;
  baseYear: string;
  discountSchedule: DiscountScheduleName;
  narrative: Record<NarrativeSection, string>;
  costs: CostLine[];
  benefits: BenefitLine[];
  totalCostsPence: Pence;
  /** What the case asks of the fund: total costs less match funding. */
  requestedPence: Pence;
  createdAt: string;
  updatedAt: string;
  submittedAt: string | null;
}

export async function getCase(db: Db | Tx, id: string): Promise<Case> {
  const [row] = (await selectCase(db, id)).rows;
  if (!row) throw refuse(CASES_REFUSALS, 'case-not-found', `There is no case ${id}.`);
  return caseFromRow(row);
}

// Nearly every operation on a case reads it first: the statement is compiled once (src/db/prepared.ts).
const selectCase = prepared((db, id: string) => db.selectFrom('cases').selectAll().where('id', '=', id));

/**
 * Reads a case to change it. On PostgreSQL this takes the case row's lock, so every change to
 * one case (edit, submit, score, decide, claim, approve, report) runs one after another and each
 * sees the state the last one left; SQLite writers already run one at a time. Lock order:
 * case, then ledger accounts, then the audit head.
 */
export async function lockCase(trx: Tx, id: string): Promise<Case> {
  if (isPostgres(trx)) await trx.selectFrom('cases').select('id').where('id', '=', id).forUpdate().execute();
  return getCase(trx, id);
}

// ---------------------------------------------------------------------------------------------
// Rows

type StoredLine = Record<string, unknown>;

/** The case's document column: everything the council wrote, amounts as strings. */
export function storedDocument(c: Case): string {
  return JSON.stringify(
    {
      title: c.title,
      placeCode: c.placeCode,
      theme: c.theme,
      partnerCodes: c.partnerCodes,
      matchFundingPence: c.matchFundingPence,
      baseYear: c.baseYear,
      discountSchedule: c.discountSchedule,
      narrative: c.narrative,
      costs: c.costs,
      benefits: c.benefits,
    },
    (_k, v) => (typeof v === 'bigint' ? v.toString() : v),
  );
}

/**
 * A case's place, read from its stored document, written exactly as the index cases_by_place
 * (migrations/0012_scale.ts) is, so a filter on it uses the index rather than reading every case.
 */
export function casePlace(db: Db | Tx) {
  return isPostgres(db) ? sql<string>`(document::jsonb ->> 'placeCode')` : sql<string>`json_extract(document, '$.placeCode')`;
}

export function caseFromRow(r: {
  id: string;
  reference: string;
  round_id: string;
  lead_council_code: string;
  status: string;
  revision: bigint | number;
  document: string;
  created_at: string;
  updated_at: string;
  submitted_at: string | null;
}): Case {
  const d = JSON.parse(r.document) as Record<string, unknown> & { costs: StoredLine[]; benefits: StoredLine[] };
  const costs = d.costs.map((l) => ({ ...l, amountPence: BigInt(l.amountPence as string) }) as CostLine);
  const benefits = d.benefits.map((l) => ({ ...l, unitValuePence: BigInt(l.unitValuePence as string) }) as BenefitLine);
  const total = costs.reduce((s, l) => s + l.amountPence, 0n);
  const match = BigInt(d.matchFundingPence as string);
  return {
    id: r.id,
    reference: r.reference,
    roundId: r.round_id,
    leadCouncilCode: r.lead_council_code,
    status: r.status as CaseStatus,
    revision: Number(r.revision),
    title: d.title as string,
    placeCode: d.placeCode as string,
    theme: d.theme as string,
    partnerCodes: d.partnerCodes as string[],
    matchFundingPence: match,
    baseYear: d.baseYear as string,
    discountSchedule: d.discountSchedule as DiscountScheduleName,
    narrative: d.narrative as Record<NarrativeSection, string>,
    costs,
    benefits,
    totalCostsPence: total,
    requestedPence: total - match,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    submittedAt: r.submitted_at,
  };
}
