import { getCase } from '../cases/records.ts';
import type { Db, Tx } from '../db/database.ts';
import { getFinancialYear } from '../fund/fund.ts';
import { type Pence, penceAsPoundsInput } from '../lib/money.ts';
import { type Look, operation } from '../lib/operation.ts';
import { listDecisions } from '../panel/panel.ts';
import { listOrganisations, listPlaces } from '../reference/reference.ts';
import { awardPosition } from '../releases/releases.ts';
import { listRounds } from '../rounds/rounds.ts';
import { ROLES } from '../users/users.ts';
import { toCsv } from './csv.ts';

/*
 * The year's awards as open data in the 360Giving Data Standard (version 1.4): a grants package
 * in JSON, and the same grants in the standard's flat CSV (one row a grant, columns titled as
 * the standard's spreadsheet template titles them).
 *
 * The rules, from the standard's guidance (standard.threesixtygiving.org):
 * - **A grant is an award**: a case whose panel decision approved it, with the amount approved,
 *   on the day it was decided. Drafts, rejected and deferred cases are not grants.
 * - **Identifiers carry the publisher's 360Giving prefix**: grants `<prefix>-<case reference>`;
 *   organisations without a registered identifier `<prefix>-ORG-<code>` (the standard's rule for
 *   organisations with no charity, company or other register number). A publisher registers its
 *   prefix with 360Giving; GRANT_ID_PREFIX is this service's until it does.
 * - **Amounts are in pounds**: the standard takes a number of pounds. Each is written from integer
 *   pence as a decimal (`1234.56`), never computed in floating point; in JSON it is the number
 *   whose shortest form is exactly that decimal (checked, so an amount that would not survive as
 *   a JSON number is refused rather than rounded).
 */

export const GRANT_ID_PREFIX = '360G-topslice';
/** The fund as the funding organisation of every grant. */
export const FUNDING_ORGANISATION = { id: `${GRANT_ID_PREFIX}-ORG-FUND`, name: 'Cross-departmental prevention fund (top-sliced)' };

export interface Grant360 {
  id: string;
  title: string;
  description: string;
  currency: 'GBP';
  amountAppliedFor: number;
  amountAwarded: number;
  amountDisbursed: number;
  awardDate: string;
  recipientOrganization: { id: string; name: string }[];
  fundingOrganization: { id: string; name: string }[];
  grantProgramme: { code: string; title: string }[];
  beneficiaryLocation: { name: string }[];
}

export interface GrantsPackage {
  version: '1.4';
  title: string;
  description: string;
  issued: string;
  grants: Grant360[];
}

/** Pence as the 360Giving number of pounds: exactly the decimal `1234.56`, or refused. */
export function poundsForOpenData(amount: Pence): number {
  const decimal = penceAsPoundsInput(amount);
  const n = Number(decimal);
  const canonical = decimal.replace(/\.?0+$/, '');
  if (String(n) !== canonical) throw new RangeError(`${decimal} cannot be written exactly as a JSON number`);
  return n;
}

interface AwardRow {
  grant: Grant360;
  /** The exact pounds, as written in the CSV. */
  pounds: { appliedFor: string; awarded: string; disbursed: string };
}

async function awardsOfYear(db: Db | Tx, fy: string): Promise<AwardRow[]> {
  await getFinancialYear(db, fy);
  const rounds = await listRounds(db, fy);
  if (rounds.length === 0) return [];
  const [orgs, places] = await Promise.all([listOrganisations(db), listPlaces(db)]);
  const orgName = new Map(orgs.map((o) => [o.code, o.name]));
  const placeName = new Map(places.map((p) => [p.code, p.name]));
  const roundOf = new Map(rounds.map((r) => [r.id, r]));
  const rows = await db
    .selectFrom('cases')
    .select(['id', 'reference', 'round_id', 'lead_council_code'])
    .where(
      'round_id',
      'in',
      rounds.map((r) => r.id),
    )
    .where('status', 'in', ['approved', 'terminated'])
    .orderBy('reference')
    .execute();
  const out: AwardRow[] = [];
  for (const row of rows) {
    const decision = (await listDecisions(db, row.id)).filter((d) => d.outcome === 'approve').at(-1);
    if (!decision || decision.amountPence === null) continue;
    const c = await getCase(db, row.id);
    const position = await awardPosition(db, row.id);
    const appliedFor = c.requestedPence;
    const disbursed = position.releasedPence - position.clawedBackPence;
    const round = roundOf.get(row.round_id);
    const pounds = {
      appliedFor: penceAsPoundsInput(appliedFor),
      awarded: penceAsPoundsInput(decision.amountPence),
      disbursed: penceAsPoundsInput(disbursed),
    };
    out.push({
      pounds,
      grant: {
        id: `${GRANT_ID_PREFIX}-${row.reference}`,
        title: c.title,
        description: summary(c.narrative.strategic) || c.title,
        currency: 'GBP',
        amountAppliedFor: poundsForOpenData(appliedFor),
        amountAwarded: poundsForOpenData(decision.amountPence),
        amountDisbursed: poundsForOpenData(disbursed),
        awardDate: decision.decidedAt.slice(0, 10),
        recipientOrganization: [
          { id: `${GRANT_ID_PREFIX}-ORG-${row.lead_council_code}`, name: orgName.get(row.lead_council_code) ?? row.lead_council_code },
        ],
        fundingOrganization: [FUNDING_ORGANISATION],
        grantProgramme: round ? [{ code: round.id, title: round.name }] : [],
        beneficiaryLocation: [{ name: placeName.get(c.placeCode) ?? c.placeCode }],
      },
    });
  }
  return out;
}

/** The first paragraph of the strategic case, at most 1,000 characters, for a grant's description. */
function summary(text: string): string {
  const first =
    text
      .trim()
      .split(/\n\s*\n/)[0]
      ?.trim() ?? '';
  return first.length > 1000 ? `${first.slice(0, 999)}…` : first;
}

/** Who reads the open data: every signed-in user (it is what the fund publishes; drafts and unsuccessful bids are not in it). */
const OPEN_DATA_READERS = { roles: ROLES, organisation: 'every signed-in user: it is what the fund publishes' } as const;

/**
 * The year's awards as a 360Giving grants package, issued at `now`. Readers: every signed-in user.
 * Changes nothing. Amounts are pounds (the standard's unit), exact from pence. Refusals:
 * financial-year-not-found (404).
 */
export const readGrantsPackage = operation(
  { ...OPEN_DATA_READERS, refuses: ['financial-year-not-found'] },
  async ({ db }: Look, fy: string, now: Date): Promise<GrantsPackage> => {
    const awards = await awardsOfYear(db, fy);
    return {
      version: '1.4',
      title: `Prevention fund awards, financial year ${fy}`,
      description: `Every award the cross-departmental prevention fund's panel approved in rounds of financial year ${fy}, as decided, with what has been released since.`,
      issued: now.toISOString(),
      grants: awards.map((a) => a.grant),
    };
  },
);

/** The 360Giving spreadsheet template's titles for the columns this export fills, in order. */
export const GRANT_CSV_COLUMNS = [
  'Identifier',
  'Title',
  'Description',
  'Currency',
  'Amount Applied For',
  'Amount Awarded',
  'Amount Disbursed',
  'Award Date',
  'Recipient Org:Identifier',
  'Recipient Org:Name',
  'Funding Org:Identifier',
  'Funding Org:Name',
  'Grant Programme:Code',
  'Grant Programme:Title',
  'Beneficiary Location:Name',
] as const;

/**
 * The same grants as the 360Giving flat CSV (RFC 4180, UTF-8, a header row of the standard's
 * titles; amounts in pounds). Readers: every signed-in user. Changes nothing. Refusals:
 * financial-year-not-found (404).
 */
export const readGrantsCsv = operation(
  { ...OPEN_DATA_READERS, refuses: ['financial-year-not-found'] },
  async ({ db }: Look, fy: string): Promise<string> => {
    const awards = await awardsOfYear(db, fy);
    const rows = awards.map(({ grant: g, pounds }) => [
      g.id,
      g.title,
      g.description,
      g.currency,
      pounds.appliedFor,
      pounds.awarded,
      pounds.disbursed,
      g.awardDate,
      g.recipientOrganization[0]?.id ?? '',
      g.recipientOrganization[0]?.name ?? '',
      g.fundingOrganization[0]?.id ?? '',
      g.fundingOrganization[0]?.name ?? '',
      g.grantProgramme[0]?.code ?? '',
      g.grantProgramme[0]?.title ?? '',
      g.beneficiaryLocation[0]?.name ?? '',
    ]);
    return toCsv([[...GRANT_CSV_COLUMNS], ...rows]);
  },
);
