import { stringify } from 'csv-stringify/sync';

/*
 * The open data's CSV: RFC 4180 with CRLF line ends, written by csv-stringify. Free text that a
 * spreadsheet would run as a formula (a reason or a title starting =, +, -, @, tab or carriage
 * return) is written with a leading apostrophe, as OWASP advises against CSV injection; an amount
 * such as -1234.56 is a number, not a formula, and stays as it is.
 */

const FORMULA = /^[=+\-@\t\r]/;
const NUMBER = /^-?\d+(\.\d+)?$/;

/** A cell a spreadsheet would not run: free text that starts like a formula gets a leading apostrophe. */
export function inertCell(value: string): string {
  return FORMULA.test(value) && !NUMBER.test(value) ? `'${value}` : value;
}

/** Rows (the header first) as CSV text. */
export function toCsv(rows: readonly (readonly string[])[]): string {
  return stringify(
    rows.map((r) => [...r]),
    { record_delimiter: '\r\n', cast: { string: inertCell } },
  );
}
