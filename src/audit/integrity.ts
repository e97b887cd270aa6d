import type { Db, Tx } from '../db/database.ts';
import { UNIT_OF } from '../ledger/report.ts';
import type { LedgerName } from '../ledger/types.ts';
import { type LedgerVerification, verifyLedger } from '../ledger/verify.ts';
import { checkpointPublicKey, checkpointSignatureValid, readCheckpoints } from './anchor.ts';
import { type AuditVerification, type KeptCheckpoint, verifyAuditChain } from './audit.ts';
import type { CausedTransfer } from './caused.ts';

/*
 * Verification from scratch: the ledger's own invariants, the keyed audit chain against the
 * checkpoints kept outside the database, and the two bound together — every transfer in the
 * ledger is recorded, with the same accounts, amount, ledger, code, flags (pending, post, void)
 * and pending transfer, by exactly one audit entry, and every
 * transfer an audit entry records is in the ledger as recorded.
 *
 * What it detects: an edited, inserted, reordered or deleted audit entry (keyed hashes and
 * links); entries removed from the end up to the last checkpoint (the checkpoint no longer
 * matches); a transfer added, removed or altered in the ledger, even with the accounts' counters
 * adjusted to match, including a reservation turned into a payment or a transfer recoded (its audit entry disagrees, and that entry cannot be re-hashed without the
 * key); counters that disagree with the transfers; an overdrawn account.
 * What it cannot detect: anything done by someone who holds AUDIT_KEY and database write access
 * together (they can rewrite and re-sign everything — keep the key away from database
 * operators); entries removed from the end after the last checkpoint (take checkpoints often and
 * keep them off this machine); a change to tables the chain does not cover (a case's text, a
 * score) unless the change is also compared with the entry that recorded it.
 */

export interface BindingProblem {
  transferId: string;
  problem: 'transfer-not-audited' | 'transfer-audited-twice' | 'audited-transfer-missing' | 'transfer-differs';
  /** The audit entry (or entries) involved, if any. */
  positions: string[];
  detail: string;
}

export interface BindingVerification {
  ok: boolean;
  transfersChecked: number;
  auditedTransfers: number;
  problems: BindingProblem[];
}

export interface IntegrityVerification {
  ok: boolean;
  ledger: LedgerVerification;
  audit: AuditVerification;
  binding: BindingVerification;
}

/** Checks the ledger's transfers and the audit entries' recorded transfers against each other, both ways. */
export async function verifyBinding(db: Db | Tx, onProgress?: (transfersChecked: number) => void): Promise<BindingVerification> {
  const audited = new Map<string, { t: CausedTransfer; positions: string[] }>();
  let auditedTransfers = 0;
  let after = 0n;
  for (;;) {
    const rows = await db
      .selectFrom('audit_log')
      .select(['position', 'transfers'])
      .where('position', '>', after)
      .orderBy('position')
      .limit(5000)
      .execute();
    if (rows.length === 0) break;
    for (const r of rows) {
      after = BigInt(r.position);
      let list: CausedTransfer[] = [];
      try {
        list = JSON.parse(r.transfers) as CausedTransfer[];
      } catch {
        list = [];
      }
      for (const t of list) {
        auditedTransfers++;
        const seen = audited.get(t.id);
        if (seen) seen.positions.push(after.toString());
        else audited.set(t.id, { t, positions: [after.toString()] });
      }
    }
  }
  const problems: BindingProblem[] = [];
  const note = (p: BindingProblem) => {
    if (problems.length < 50) problems.push(p);
  };
  let checked = 0;
  let afterSeq = -1n;
  for (;;) {
    const rows = await db
      .selectFrom('transfers')
      .select(['seq', 'id', 'debit_account_id', 'credit_account_id', 'amount', 'ledger', 'code', 'flags', 'pending_id'])
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .limit(5000)
      .execute();
    if (rows.length === 0) break;
    for (const r of rows) {
      afterSeq = BigInt(r.seq);
      checked++;
      const a = audited.get(r.id);
      if (!a) {
        note({ transferId: r.id, problem: 'transfer-not-audited', positions: [], detail: 'no audit entry records this transfer' });
        continue;
      }
      audited.delete(r.id);
      if (a.positions.length > 1) {
        note({
          transferId: r.id,
          problem: 'transfer-audited-twice',
          positions: a.positions,
          detail: 'more than one audit entry records it',
        });
      }
      const amount = BigInt(r.amount).toString();
      const unit = UNIT_OF[r.ledger as LedgerName] ?? 'units';
      if (a.t.amount !== amount || a.t.debitAccountId !== r.debit_account_id || a.t.creditAccountId !== r.credit_account_id) {
        note({
          transferId: r.id,
          problem: 'transfer-differs',
          positions: a.positions,
          detail: `the ledger has ${amount} ${unit} from ${r.debit_account_id} to ${r.credit_account_id}; its audit entry recorded ${a.t.amount} ${unit} from ${a.t.debitAccountId} to ${a.t.creditAccountId}`,
        });
        continue;
      }
      // The kind of movement, where the entry recorded it (entries written before did not).
      const kind = { ledger: r.ledger, code: r.code, flags: Number(r.flags), pendingId: r.pending_id };
      const differs = (Object.keys(kind) as (keyof typeof kind)[]).filter((k) => a.t[k] !== undefined && a.t[k] !== kind[k]);
      if (differs.length > 0) {
        note({
          transferId: r.id,
          problem: 'transfer-differs',
          positions: a.positions,
          detail: `the ledger has ${differs.map((k) => `${k} ${JSON.stringify(kind[k])}`).join(', ')}; its audit entry recorded ${differs.map((k) => `${k} ${JSON.stringify(a.t[k])}`).join(', ')}`,
        });
      }
    }
    onProgress?.(checked);
  }
  for (const [id, a] of audited) {
    note({
      transferId: id,
      problem: 'audited-transfer-missing',
      positions: a.positions,
      detail: 'an audit entry records it but the ledger has no such transfer',
    });
  }
  return { ok: problems.length === 0, transfersChecked: checked, auditedTransfers, problems };
}

/** How far a verification has got: audit entries re-hashed, transfers matched to their entries. */
export interface IntegrityProgress {
  auditEntriesChecked: number;
  transfersChecked: number;
}

/**
 * The whole verification: ledger invariants, the audit chain against the checkpoints in
 * `checkpointPath` and any the caller kept, and the binding of the two. One part after another:
 * in a snapshot they share one connection, so running them together would gain nothing.
 */
export async function verifyIntegrity(
  db: Db | Tx,
  options: {
    checkpointPath?: string | null;
    checkpoints?: KeptCheckpoint[];
    onProgress?: (progress: IntegrityProgress) => void;
  } = {},
): Promise<IntegrityVerification> {
  const kept = readCheckpoints(options.checkpointPath ?? null);
  const publicKey = checkpointPublicKey();
  const progress: IntegrityProgress = { auditEntriesChecked: 0, transfersChecked: 0 };
  const ledger = await verifyLedger(db);
  const audit = await verifyAuditChain(db, {
    checkpoints: [...kept.checkpoints, ...(options.checkpoints ?? [])],
    signatureValid: (c) => checkpointSignatureValid(c, publicKey),
    onProgress: (n) => {
      progress.auditEntriesChecked = n;
      options.onProgress?.({ ...progress });
    },
  });
  const binding = await verifyBinding(db, (n) => {
    progress.transfersChecked = n;
    options.onProgress?.({ ...progress });
  });
  for (const line of kept.unreadable) {
    audit.problems.push({
      position: '0',
      problem: 'checkpoint-signature',
      detail: `line ${line} of the checkpoint file is not a checkpoint`,
    });
    audit.ok = false;
  }
  return { ok: ledger.ok && audit.ok && binding.ok, ledger, audit, binding };
}
