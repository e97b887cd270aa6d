import { type BenefitsFilter, realisedBenefits } from '../benefits/benefits.ts';
import { penceAsPoundsInput } from '../lib/money.ts';
import { type Look, operation } from '../lib/operation.ts';
import { ROLES } from '../users/users.ts';
import { toCsv } from './csv.ts';

/** The benefits register's CSV columns, in order. Money columns are pounds, written exactly from pence. */
export const REGISTER_CSV_COLUMNS = [
  'Case reference',
  'Place',
  'Theme',
  'Benefit line',
  'Outcome',
  'Type',
  'Cashable',
  'Beneficiary',
  'Department',
  'Year',
  'Appraised (£)',
  'Forecast (£)',
  'Claimed (£)',
  'Verified (£)',
  'Variance (£)',
  'Status (RAG)',
  'Report status',
  'Forecast reason',
  'Verification reason',
] as const;

/**
 * The benefits register as CSV (RFC 4180, UTF-8): every row `realisedBenefits` gives this user for
 * the filters on `today` (YYYY-MM-DD), in the same order, so its rules decide what each reader sees
 * (a department its own attributions, a council its own cases). Readers: every signed-in user.
 * Changes nothing; refuses nothing beyond the filters'. Money columns are pounds, exact from pence.
 * Benefit lines are numbered from 1, as the pages show them.
 */
export const readRegisterCsv = operation(
  {
    roles: ROLES,
    organisation: 'as the benefits register: a department its own attributions, a council its own cases',
    refuses: [],
  },
  async ({ db, principal: p }: Look, filter: BenefitsFilter, today: string): Promise<string> => {
    const { rows } = await realisedBenefits(db, p, filter, today);
    const pounds = penceAsPoundsInput;
    return toCsv([
      [...REGISTER_CSV_COLUMNS],
      ...rows.map((r) => [
        r.reference,
        r.placeCode,
        r.theme,
        String(r.benefitLineIndex + 1),
        r.outcome,
        r.type,
        r.cashable ? 'yes' : 'no',
        r.beneficiaryCode ?? '',
        r.departmentCode ?? '',
        r.year,
        pounds(r.appraisedPence),
        pounds(r.forecastPence),
        pounds(r.claimedPence),
        pounds(r.verifiedPence),
        pounds(r.variancePence),
        r.rag,
        r.reportStatus ?? '',
        r.forecastReason ?? '',
        r.verificationReason ?? '',
      ]),
    ]);
  },
);
