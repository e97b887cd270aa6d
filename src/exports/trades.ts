import { stringify } from 'csv-stringify/sync';
import { penceAsPoundsInput } from '../lib/money.ts';
import type { Look } from '../lib/operation.ts';
import { readTrades } from '../market/trades.ts';

/** The trades CSV's columns, in order. Money columns are pounds, written exactly from pence. */
export const TRADES_CSV_COLUMNS = [
  'Trade',
  'Executed at',
  'Financial year',
  'Vintage',
  'Seller',
  'Buyer',
  'Quantity (credits)',
  'Price per credit (£)',
  'Value (£)',
  'How agreed',
  'Sell order',
  'Buy order',
  'Bilateral proposal',
] as const;

/**
 * A year's credit trades as CSV (RFC 4180, UTF-8): every trade `readTrades` gives this reader for
 * year `fy`, oldest first, so its rule decides what each reader sees (a department the trades it
 * bought or sold; treasury and auditors every trade). Who: the market's readers (treasury,
 * auditor, department); others are refused (`forbidden`) by the read. Changes nothing.
 * Quantities are whole credits; prices and values pounds to the penny.
 */
export async function tradesCsv(look: Look, fy: string): Promise<string> {
  const { trades } = await readTrades(look, fy);
  const pounds = penceAsPoundsInput;
  return stringify(
    [
      [...TRADES_CSV_COLUMNS],
      ...trades.map((t) => [
        t.id,
        t.executedAt,
        t.financialYear,
        t.vintage,
        t.sellerCode,
        t.buyerCode,
        t.quantity.toString(),
        pounds(t.pricePence),
        pounds(t.valuePence),
        t.bilateralId ? 'bilateral' : 'order book',
        t.sellOrderId ?? '',
        t.buyOrderId ?? '',
        t.bilateralId ?? '',
      ]),
    ],
    { record_delimiter: '\r\n' },
  );
}
