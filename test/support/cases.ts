import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES_DIR } from '../../src/reference/reference.ts';
import type { TestApp } from './app.ts';

/*
 * Fixtures for the case and panel suites: a year and an open round, the demo business cases in
 * fixtures/demo/cases/ as request bodies, and a small case whose benefit–cost ratio is chosen.
 */

const DEMO_DIR = join(FIXTURES_DIR, 'demo', 'cases');

// biome-ignore lint/suspicious/noExplicitAny: request bodies are edited field by field in tests
export type CaseBody = Record<string, any>;

/** A demo case file (e.g. `02-bradford-ex-offenders.json`) as the body of POST /cases: `demo` stripped, `roundId` set. */
export function demoCase(file: string, roundId: string): CaseBody {
  const { demo: _demo, ...body } = JSON.parse(readFileSync(join(DEMO_DIR, file), 'utf8')) as CaseBody;
  return structuredClone({ ...body, roundId });
}

/** Which council leads each demo case. */
export function demoLead(file: string): string {
  return (JSON.parse(readFileSync(join(DEMO_DIR, file), 'utf8')) as { demo: { lead: string } }).demo.lead;
}

export const BRADFORD_CASE = '02-bradford-ex-offenders.json';
export const LEWISHAM_CASE = '05-lewisham-drugs-alcohol.json';
export const BIRMINGHAM_CASE = '04-birmingham-guns-and-gangs.json';

/** The year (via the API) if it does not exist yet. */
export async function ensureYear(t: TestApp, fy = '2026-27'): Promise<void> {
  const existing = await t.request('GET', `/api/v1/financial-years/${fy}`);
  if (existing.status === 200) return;
  const r = await t.request('POST', '/api/v1/financial-years', { body: { name: fy } });
  if (r.status !== 201) throw new Error(`year ${fy}: ${r.status} ${r.text}`);
}

export const ROUND = {
  financialYear: '2026-27',
  name: 'Prevention Fund 2026-27: round 1',
  envelopePence: 25_000_000_00,
  opensOn: '2026-05-01',
  closesOn: '2026-07-31',
  minMatchFundingBasisPoints: 1000,
  themes: [] as string[],
  quorum: 2,
};

/** Treasury opens a round (open on the test clock's 2026-06-01 unless told otherwise); returns its body. */
// biome-ignore lint/suspicious/noExplicitAny: the round as JSON
export async function openRound(t: TestApp, overrides: Partial<typeof ROUND> & Record<string, unknown> = {}): Promise<any> {
  const body = { ...ROUND, ...overrides };
  await ensureYear(t, body.financialYear);
  const r = await t.request('POST', '/api/v1/rounds', { body });
  if (r.status !== 201) throw new Error(`round: ${r.status} ${r.text}`);
  return r.body;
}

/** A council drafts a case; returns the draft. */
// biome-ignore lint/suspicious/noExplicitAny: the case as JSON
export async function draftCase(t: TestApp, token: string, body: CaseBody): Promise<any> {
  const r = await t.request('POST', '/api/v1/cases', { token, body });
  if (r.status !== 201) throw new Error(`draft: ${r.status} ${r.text}`);
  return r.body;
}

/** A council submits its draft; returns `{ case, appraisal }`. */
// biome-ignore lint/suspicious/noExplicitAny: the reply as JSON
export async function submit(t: TestApp, token: string, id: string): Promise<any> {
  const r = await t.request('POST', `/api/v1/cases/${id}/submit`, { token });
  if (r.status !== 200) throw new Error(`submit: ${r.status} ${r.text}`);
  return r.body;
}

export const NARRATIVE = {
  strategic: 'Why: reoffending by short-sentence prisoners drives demand across the partnership.',
  economic: 'Options compared with the statutory minimum; benefits priced at stated unit values.',
  commercial: 'Delivered in house with a voluntary-sector partner under an existing framework.',
  financial: 'Partners match fund a tenth of the cost in seconded staff; the fund pays the rest.',
  management: 'A programme board with a named senior responsible owner reports quarterly.',
};

/**
 * A small Bradford case whose appraisal is exact and easy to steer: every line in the base year,
 * grade 1 (no optimism bias), 100% impact, no deadweight, one year's persistence, unit value
 * stated at base-year prices. So PV costs = total costs and BCR = volume × unit value ÷ total costs.
 *
 * Costs: Bradford `leadPence` + West Yorkshire Police `matchPence`, matched by the police line.
 * The benefit goes to the West Yorkshire ICB (which answers to DHSC).
 */
export function simpleCase(
  roundId: string,
  opts: { leadPence?: number; matchPence?: number; volume?: number; unitValuePence?: number; title?: string } = {},
): CaseBody {
  const leadPence = opts.leadPence ?? 900_000_00;
  const matchPence = opts.matchPence ?? 100_000_00;
  return {
    roundId,
    title: opts.title ?? 'Bradford resettlement pilot',
    placeCode: 'BRADFORD',
    theme: 'offenders',
    partnerCodes: ['WEST-YORKSHIRE-POLICE', 'WEST-YORKSHIRE-ICB', 'PROBATION-YORKSHIRE-HUMBER'],
    matchFundingPence: matchPence,
    baseYear: '2026-27',
    narrative: { ...NARRATIVE },
    costs: [
      { year: '2026-27', kind: 'revenue', payerCode: 'BRADFORD', amountPence: leadPence, confidenceGrade: 1 },
      { year: '2026-27', kind: 'revenue', payerCode: 'WEST-YORKSHIRE-POLICE', amountPence: matchPence, confidenceGrade: 1 },
    ],
    benefits: [
      {
        outcome: 'A&E attendances avoided',
        beneficiaryCode: 'WEST-YORKSHIRE-ICB',
        type: 'fiscal',
        cashable: true,
        unitValuePence: opts.unitValuePence ?? 100_00,
        priceYear: '2026-27',
        source: 'Local tariff, stated at 2026-27 prices',
        volumes: { '2026-27': opts.volume ?? 20_000 },
        impactBasisPoints: 10_000,
        deadweightBasisPoints: 0,
        persistenceYears: 1,
        confidenceGrade: 1,
      },
    ],
  };
}

/** The simple case with a BCR of `bcr` (PV costs are £1,000,000, unit value £100). */
export function caseWithBcr(roundId: string, bcr: number, title?: string): CaseBody {
  return simpleCase(roundId, { volume: Math.round(bcr * 10_000), title });
}
