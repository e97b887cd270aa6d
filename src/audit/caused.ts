import type { Tx } from '../db/database.ts';

/**
 * The ledger transfers a transaction has created and no audit entry has recorded yet. The ledger
 * notes each transfer it creates; the next audit entry appended in the same transaction takes
 * them, so every transfer is recorded by exactly one audit entry and verification can check
 * the two against each other both ways.
 */

export interface CausedTransfer {
  id: string;
  debitAccountId: string;
  creditAccountId: string;
  /** In the ledger's unit (pence for GBP, whole credits for CREDIT), as a decimal string. */
  amount: string;
}

const caused = new WeakMap<object, CausedTransfer[]>();

export function noteCausedTransfers(
  trx: Tx,
  transfers: { id: string; debitAccountId: string; creditAccountId: string; amount: bigint }[],
): void {
  if (transfers.length === 0) return;
  const list = caused.get(trx) ?? [];
  for (const t of transfers)
    list.push({ id: t.id, debitAccountId: t.debitAccountId, creditAccountId: t.creditAccountId, amount: t.amount.toString() });
  caused.set(trx, list);
}

export function takeCausedTransfers(trx: Tx): CausedTransfer[] {
  const list = caused.get(trx) ?? [];
  caused.delete(trx);
  return list;
}
