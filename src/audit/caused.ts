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
  /*
   * What kind of movement it was: without these, a reservation could be turned into a payment,
   * or a payment into a void, or a contribution recoded as a buy-out, with every counter made to
   * agree. Absent from entries written before they were recorded.
   */
  ledger?: string;
  code?: string;
  /** The ledger's flags (src/ledger/types.ts TRANSFER_FLAGS): linked, pending, post, void. */
  flags?: number;
  pendingId?: string | null;
}

const caused = new WeakMap<object, CausedTransfer[]>();

export interface NotedTransfer {
  id: string;
  debitAccountId: string;
  creditAccountId: string;
  amount: bigint;
  ledger: string;
  code: string;
  /** As the ledger stores them. */
  flags: number;
  pendingId: string | null;
}

export function noteCausedTransfers(trx: Tx, transfers: NotedTransfer[]): void {
  if (transfers.length === 0) return;
  const list = caused.get(trx) ?? [];
  for (const t of transfers)
    list.push({
      id: t.id,
      debitAccountId: t.debitAccountId,
      creditAccountId: t.creditAccountId,
      amount: t.amount.toString(),
      ledger: t.ledger,
      code: t.code,
      flags: t.flags,
      pendingId: t.pendingId,
    });
  caused.set(trx, list);
}

export function takeCausedTransfers(trx: Tx): CausedTransfer[] {
  const list = caused.get(trx) ?? [];
  caused.delete(trx);
  return list;
}
