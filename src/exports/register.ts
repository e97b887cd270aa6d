import { stringify } from 'csv-stringify/sync';
import { type BenefitsFilter, realisedBenefits } from '../benefits/benefits.ts';
import type { Db, Tx } from '../db/database.ts';
import { penceAsPoundsInput } from '../lib/money.ts';
import type { Principal } from '../users/users.ts';

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
 * the filters, in the same order, so its rules decide what each reader sees (a department its own
 * attributions, a council its own cases). Changes nothing; refuses nothing beyond the filters'.
 * Benefit lines are numbered from 1, as the pages show them.
 */
export async function registerCsv(db: Db | Tx, p: Principal, filter: BenefitsFilter, today: string): Promise<string> {
  const { rows } = await realisedBenefits(db, p, filter, today);
  const pounds = penceAsPoundsInput;
  return stringify(
    [
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
    ],
    { record_delimiter: '\r\n' },
  );
}
