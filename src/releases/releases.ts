import { randomUUID } from 'node:crypto';
import { appendAudit, SUBJECT } from '../audit/audit.ts';
import { mayMove, moveCase } from '../cases/lifecycle.ts';
import { type Case, getCase, lockCase } from '../cases/records.ts';
import { lockOwnCase, lockSubmittedCase } from '../cases/visibility.ts';
import type { Db, Tx } from '../db/database.ts';
import { prepared } from '../db/prepared.ts';
import { accountIds as fundAccounts } from '../fund/fund.ts';
import { type CreateTransferResult, createAccounts, createTransfers, getAccount } from '../ledger/ledger.ts';
import { LEDGER_REFUSALS } from '../ledger/refusals.ts';
import { availableBalance, type TransferInput } from '../ledger/types.ts';
import { invalid } from '../lib/errors.ts';
import { allocatePence, formatPence, type Pence } from '../lib/money.ts';
import { type Act, type Look, operation } from '../lib/operation.ts';
import { refuse } from '../lib/refusals.ts';
import { assertNotConflicted, conflictOfInterest } from '../panel/conflicts.ts';
import { getRound, type Round } from '../rounds/rounds.ts';
import { actorOf } from '../users/users.ts';
import { approvalsNeeded, countedApprovals, independenceProblem, releaseParties } from './four-eyes.ts';
import { RELEASES_REFUSALS } from './refusals.ts';

/*
 * Releases. Approving a case reserves the whole award in the fund: one pending transfer per
 * tranche, from the round's fund account to the council's, all or nothing (a linked chain), so
 * the fund can never commit more than it holds. The council claims a tranche with evidence;
 * independent panel or treasury users approve it (the four-eyes rule, ./four-eyes.ts: two once
 * the award's cumulative releases pass the round's threshold), and the tranche's pending
 * transfer is posted. Termination voids what is
 * left; a clawback moves money back to the fund, as a refund now or as an offset against a
 * later tranche.
 *
 * For every case: released + still committed + voided (and offset) = award, and clawbacks are
 * never more than was released.
 */

export type TrancheStatus = 'scheduled' | 'claimed' | 'released' | 'voided';

export interface TrancheState {
  caseId: string;
  number: number;
  amountPence: Pence;
  earliestOn: string;
  condition: string;
  status: TrancheStatus;
  pendingTransferId: string;
  /** Withheld from this tranche to claw back money released earlier. */
  offsetPence: Pence;
  claimedBy: string | null;
  claimedAt: string | null;
  evidence: string | null;
  approvals: { userId: string; approvedAt: string }[];
  approvalsNeeded: number;
  releasedPence: Pence | null;
  releasedAt: string | null;
  voidedAt: string | null;
}

export interface TrancheInput {
  basisPoints?: number;
  amountPence?: Pence;
  earliestOn: string;
  condition: string;
}

export interface Tranche {
  number: number;
  amountPence: Pence;
  earliestOn: string;
  condition: string;
}

/**
 * Splits an award into its tranches. Percentages (basis points, adding to 10,000) are split
 * by the allocation rule in src/lib/money.ts (largest remainder, ties to the earlier tranche),
 * so the tranches add up to the award to the penny; amounts must add up to it. With no schedule, the whole award is one tranche on the decision date.
 */
export function trancheSchedule(award: Pence, input: TrancheInput[] | undefined, today: string): Tranche[] {
  if (!input || input.length === 0)
    return [{ number: 1, amountPence: award, earliestOn: today, condition: 'Acceptance of the award and its conditions' }];
  const byShare = input.every((t) => t.basisPoints !== undefined && t.amountPence === undefined);
  const byAmount = input.every((t) => t.amountPence !== undefined && t.basisPoints === undefined);
  if (!byShare && !byAmount) {
    throw invalid([{ pointer: '/tranches', detail: 'give every tranche either basisPoints or amountPence, the same way for all' }]);
  }
  let amounts: Pence[];
  if (byShare) {
    const total = input.reduce((s, t) => s + (t.basisPoints ?? 0), 0);
    if (total !== 10_000) throw invalid([{ pointer: '/tranches', detail: `the shares add up to ${total} basis points, not 10000` }]);
    if (input.some((t) => t.basisPoints === 0)) throw invalid([{ pointer: '/tranches', detail: 'a tranche cannot be 0%' }]);
    amounts = allocatePence(
      award,
      input.map((t) => BigInt(t.basisPoints ?? 0)),
    );
    if (amounts.some((a) => a === 0n)) {
      throw invalid([
        { pointer: '/tranches', detail: `an award of ${formatPence(award)} is too small to split into ${input.length} tranches` },
      ]);
    }
  } else {
    amounts = input.map((t) => t.amountPence ?? 0n);
    const total = amounts.reduce((s, a) => s + a, 0n);
    if (total !== award)
      throw invalid([
        { pointer: '/tranches', detail: `the tranches add up to ${formatPence(total)}, not the award of ${formatPence(award)}` },
      ]);
    if (amounts.some((a) => a === 0n)) throw invalid([{ pointer: '/tranches', detail: 'a tranche cannot be £0' }]);
  }
  const dates = input.map((t) => t.earliestOn);
  const errors = dates.flatMap((d, i) =>
    i > 0 && d < (dates[i - 1] as string) ? [{ pointer: `/tranches/${i}/earliestOn`, detail: 'tranches must be in date order' }] : [],
  );
  if (errors.length > 0) throw invalid(errors);
  return input.map((t, i) => ({ number: i + 1, amountPence: amounts[i] as Pence, earliestOn: t.earliestOn, condition: t.condition }));
}

export const councilAccountId = (fy: string, code: string) => `GBP/${fy}/council/${code}`;
const trancheTransferId = (caseId: string, n: number) => `tranche/${caseId}/${n}`;

/**
 * Reserves an award: one pending transfer per tranche, linked, from the fund to the council.
 * Takes the case's round as the decision loaded it. Refusals: `insufficient-funds`, `ledger-refused` (422).
 */
export async function commitAward(trx: Tx, c: Case, round: Round, tranches: Tranche[], now: Date): Promise<void> {
  const fy = round.financialYear;
  const created = await createAccounts(
    trx,
    [
      {
        id: councilAccountId(fy, c.leadCouncilCode),
        ledger: 'GBP',
        kind: 'council',
        organisationCode: c.leadCouncilCode,
        financialYear: fy,
        debitsMustNotExceedCredits: true,
      },
    ],
    now,
  );
  if (created.some((r) => 'error' in r)) throw new Error(`council account refused: ${JSON.stringify(created)}`);
  const transfers: TransferInput[] = tranches.map((t, i) => ({
    id: trancheTransferId(c.id, t.number),
    debitAccountId: fundAccounts.fund(fy),
    creditAccountId: councilAccountId(fy, c.leadCouncilCode),
    amount: t.amountPence,
    ledger: 'GBP',
    code: 'commitment',
    pending: true,
    linked: i < tranches.length - 1,
    reference: `${c.reference} tranche ${t.number}`,
  }));
  const results = await createTransfers(trx, transfers, now);
  const failed = results.find((r) => 'error' in r && r.error !== 'linked_event_failed') as
    | Extract<CreateTransferResult, { error: unknown }>
    | undefined;
  if (failed) {
    if (failed.error === 'exceeds_credits' || failed.error === 'debit_account_not_found') {
      const fund = await getAccount(trx, fundAccounts.fund(fy));
      const available = fund ? availableBalance(fund) : 0n;
      const award = tranches.reduce((s, t) => s + t.amountPence, 0n);
      throw refuse(
        RELEASES_REFUSALS,
        'insufficient-funds',
        `Approving ${c.reference} would commit ${formatPence(award)}, but the ${fy} fund has only ${formatPence(available)} available.`,
        { availablePence: available, awardPence: award },
      );
    }
    throw refuse(LEDGER_REFUSALS, 'ledger-refused', `Commitment for ${c.reference} refused: ${failed.error}.`, {
      ledgerError: failed.error,
    });
  }
  await trx
    .insertInto('tranches')
    .values(
      tranches.map((t) => ({
        case_id: c.id,
        number: t.number,
        amount_pence: t.amountPence,
        earliest_on: t.earliestOn,
        condition: t.condition,
        status: 'scheduled',
        pending_transfer_id: trancheTransferId(c.id, t.number),
      })),
    )
    .execute();
}

/** A case's tranches (`tranchesOf`) for a caller that holds only its id: loads the case and its round. Refusal: case-not-found (404). */
export async function listTranches(db: Db | Tx, caseId: string): Promise<TrancheState[]> {
  const c = await getCase(db, caseId);
  return tranchesOf(db, c, await getRound(db, c.roundId));
}

// Every claim and approval reads the case's tranches twice: compiled once (src/db/prepared.ts).
const selectTranches = prepared((db, caseId: string) =>
  db.selectFrom('tranches').selectAll().where('case_id', '=', caseId).orderBy('number'),
);
const selectApprovals = prepared((db, caseId: string) =>
  db
    .selectFrom('tranche_approvals')
    .selectAll()
    .where('case_id', '=', caseId)
    .where('voided_at', 'is', null)
    .orderBy('approved_at')
    .orderBy('user_id'),
);

/**
 * A case's tranches as they stand: each with its approvals and the approvals the four-eyes rule
 * asks of it (./four-eyes.ts), under the threshold of the case's round. Takes the case and its
 * round as the caller loaded them.
 */
export async function tranchesOf(db: Db | Tx, c: Case, round: Round): Promise<TrancheState[]> {
  const [{ rows }, { rows: approvals }] = await Promise.all([selectTranches(db, c.id), selectApprovals(db, c.id)]);
  // The two-approver threshold applies to the award's cumulative releases (./four-eyes.ts).
  let releasedSoFar = 0n;
  return rows.map((r) => {
    const amount = BigInt(r.amount_pence);
    const offset = BigInt(r.offset_pence);
    const released = r.released_pence === null ? null : BigInt(r.released_pence);
    const needed = approvalsNeeded(releasedSoFar, released ?? amount - offset, round.twoApproverThresholdPence);
    // Tranches are claimed in order, so an open tranche follows every earlier one paid in full.
    releasedSoFar += released ?? (r.status === 'voided' ? 0n : amount - offset);
    return {
      caseId: r.case_id,
      number: Number(r.number),
      amountPence: amount,
      earliestOn: r.earliest_on,
      condition: r.condition,
      status: r.status as TrancheStatus,
      pendingTransferId: r.pending_transfer_id,
      offsetPence: offset,
      claimedBy: r.claimed_by,
      claimedAt: r.claimed_at,
      evidence: r.evidence,
      approvals: approvals
        .filter((a) => Number(a.number) === Number(r.number))
        .map((a) => ({ userId: a.user_id, approvedAt: a.approved_at })),
      approvalsNeeded: needed,
      releasedPence: released,
      releasedAt: r.released_at,
      voidedAt: r.voided_at,
    };
  });
}

/** Tranche `n` of a loaded case, with all its tranches. Refusal: tranche-not-found (404). */
async function trancheOf(trx: Tx, c: Case, round: Round, n: number): Promise<{ tranches: TrancheState[]; t: TrancheState }> {
  const tranches = await tranchesOf(trx, c, round);
  const t = tranches.find((x) => x.number === n);
  if (!t) throw refuse(RELEASES_REFUSALS, 'tranche-not-found', `${c.reference} has no tranche ${n}.`);
  return { tranches, t };
}

/**
 * The council claims a tranche with evidence: in order, not before its date, once.
 * Refusals: `forbidden`; case-not-found (404), tranche-not-found (404), case-not-approved (409),
 * tranche-not-due (409), tranche-out-of-order (409), tranche-already-claimed (409),
 * tranche-already-released (409), tranche-closed (409).
 */
export const claimTranche = operation(
  {
    roles: ['council'],
    organisation: "the case's lead council",
    refuses: [
      'case-not-found',
      'tranche-not-found',
      'case-not-approved',
      'tranche-not-due',
      'tranche-out-of-order',
      'tranche-already-claimed',
      'tranche-already-released',
      'tranche-closed',
    ],
  },
  async ({ trx, principal: p, requestId, now }: Act, caseId: string, n: number, evidence: string) => {
    const c = await lockOwnCase(trx, caseId, p);
    const round = await getRound(trx, c.roundId);
    const { tranches, t } = await trancheOf(trx, c, round, n);
    if (c.status !== 'approved')
      throw refuse(
        RELEASES_REFUSALS,
        'case-not-approved',
        `${c.reference} is ${c.status}; only an approved case's tranches can be claimed.`,
      );
    if (t.status !== 'scheduled') {
      throw refuse(
        RELEASES_REFUSALS,
        'tranche-already-claimed',
        `Tranche ${n} of ${c.reference} is ${t.status}${t.claimedAt ? ` (claimed ${t.claimedAt})` : ''}.`,
      );
    }
    const earlier = tranches.find((x) => x.number < n && x.status !== 'released' && x.status !== 'voided');
    if (earlier) {
      throw refuse(
        RELEASES_REFUSALS,
        'tranche-out-of-order',
        `Tranche ${earlier.number} of ${c.reference} must be released before tranche ${n} can be claimed.`,
      );
    }
    const today = now.toISOString().slice(0, 10);
    if (today < t.earliestOn) {
      throw refuse(RELEASES_REFUSALS, 'tranche-not-due', `Tranche ${n} of ${c.reference} can be claimed from ${t.earliestOn}.`);
    }
    const at = now.toISOString();
    const claimed = await trx
      .updateTable('tranches')
      .set({ status: 'claimed', claimed_by: p.userId, claimed_at: at, evidence })
      .where('case_id', '=', caseId)
      .where('number', '=', n)
      .where('status', '=', 'scheduled')
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1)
      throw refuse(RELEASES_REFUSALS, 'tranche-already-claimed', `Tranche ${n} of ${c.reference} was claimed meanwhile.`);
    await appendAudit(
      trx,
      {
        actor: actorOf(p),
        action: 'tranche.claimed',
        subject: SUBJECT.tranche(caseId, n),
        detail: { evidence, amountPence: t.amountPence },
        requestId,
      },
      now,
    );
    return (await tranchesOf(trx, c, round)).find((x) => x.number === n) as TrancheState;
  },
);

/**
 * A panel or treasury user approves a claimed tranche. When it has all the independent approvals
 * the four-eyes rule asks for (./four-eyes.ts), its pending transfer is posted (less any offset)
 * and the money moves. Refusals: `forbidden` (role), `conflict-of-interest`,
 * `approver-not-independent` (403, with the reason), `tranche-not-claimed`,
 * `tranche-already-released`, `already-approved-by-you` (409), `ledger-refused` (422).
 * It can also refuse: case-not-found (404), tranche-not-found (404),
 * case-not-approved (409), tranche-closed (409), tranche-out-of-order (409).
 */
export const approveTranche = operation(
  {
    roles: ['panel', 'treasury'],
    refuses: [
      'case-not-found',
      'tranche-not-found',
      'case-not-approved',
      'tranche-not-claimed',
      'tranche-already-released',
      'tranche-closed',
      'already-approved-by-you',
      'ledger-refused',
      'tranche-out-of-order',
      'conflict-of-interest',
      'approver-not-independent',
    ],
  },
  async ({ trx, principal: p, requestId, now }: Act, caseId: string, n: number) => {
    const c = await lockCase(trx, caseId);
    const round = await getRound(trx, c.roundId);
    const { t } = await trancheOf(trx, c, round, n);
    // Who the release must be independent of (./four-eyes.ts), which also says whether the approver declared a conflict.
    const parties = await releaseParties(trx, caseId, t.claimedBy, [...t.approvals.map((a) => a.userId), p.userId]);
    if (p.role === 'panel' && parties.conflicted.has(p.userId)) throw conflictOfInterest(c);
    if (t.status === 'released')
      throw refuse(RELEASES_REFUSALS, 'tranche-already-released', `Tranche ${n} of ${c.reference} was released on ${t.releasedAt}.`);
    if (t.status !== 'claimed')
      throw refuse(
        RELEASES_REFUSALS,
        'tranche-not-claimed',
        `Tranche ${n} of ${c.reference} is ${t.status}; the council must claim it first.`,
      );
    if (t.approvals.some((a) => a.userId === p.userId)) {
      throw refuse(RELEASES_REFUSALS, 'already-approved-by-you', `Tranche ${n} of ${c.reference} needs a second, different approver.`);
    }
    // The four-eyes rule (./four-eyes.ts): only independent approvers count.
    const counted = countedApprovals(parties, t.approvals);
    const problem = independenceProblem(
      parties,
      p.userId,
      counted.map((a) => a.userId),
    );
    if (problem) {
      throw refuse(RELEASES_REFUSALS, 'approver-not-independent', `You cannot approve tranche ${n} of ${c.reference}: ${problem}.`);
    }
    const at = now.toISOString();
    await trx.insertInto('tranche_approvals').values({ case_id: caseId, number: n, user_id: p.userId, approved_at: at }).execute();
    const approvals = counted.length + 1;
    const approved = {
      actor: actorOf(p),
      action: 'tranche.approved',
      subject: SUBJECT.tranche(caseId, n),
      detail: { approval: approvals, of: t.approvalsNeeded },
      requestId,
    };
    if (approvals < t.approvalsNeeded) {
      await appendAudit(trx, approved, now);
      return (await tranchesOf(trx, c, round)).find((x) => x.number === n) as TrancheState;
    }

    const pay = t.amountPence - t.offsetPence;
    const [result] = await createTransfers(
      trx,
      [
        pay > 0n
          ? {
              id: `release/${caseId}/${n}`,
              pendingId: t.pendingTransferId,
              postPendingTransfer: true,
              amount: pay,
              reference: `${c.reference} tranche ${n} released`,
            }
          : {
              id: `release/${caseId}/${n}`,
              pendingId: t.pendingTransferId,
              voidPendingTransfer: true,
              reference: `${c.reference} tranche ${n} offset in full`,
            },
      ],
      now,
    );
    if (!result || 'error' in result) {
      if (result?.error === 'pending_transfer_already_posted') {
        throw refuse(RELEASES_REFUSALS, 'tranche-already-released', `Tranche ${n} of ${c.reference} was released meanwhile.`);
      }
      throw refuse(LEDGER_REFUSALS, 'ledger-refused', `Tranche ${n} of ${c.reference}: ${result?.error}.`, {
        ledgerError: result?.error,
      });
    }
    const updated = await trx
      .updateTable('tranches')
      .set({ status: 'released', released_pence: pay, released_at: at })
      .where('case_id', '=', caseId)
      .where('number', '=', n)
      .where('status', '=', 'claimed')
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1)
      throw refuse(RELEASES_REFUSALS, 'tranche-already-released', `Tranche ${n} was released meanwhile.`);
    // Audit last, after the ledger: the lock order is case, accounts, audit head. The release's
    // transfer is recorded by the release entry.
    await appendAudit(trx, { ...approved, leaveTransfersToNext: true }, now);
    await appendAudit(
      trx,
      {
        actor: actorOf(p),
        action: 'tranche.released',
        subject: SUBJECT.tranche(caseId, n),
        detail: { releasedPence: pay, offsetPence: t.offsetPence, transferId: result.id },
        requestId,
      },
      now,
    );
    return (await tranchesOf(trx, c, round)).find((x) => x.number === n) as TrancheState;
  },
);

/**
 * Ends a failing project: every tranche not yet released is voided and its reservation returns to the fund.
 * Refusals: `forbidden`; case-not-found (404), case-not-approved (409), ledger-refused (422),
 * conflict-of-interest (403).
 */
export const terminateCase = operation(
  { roles: ['treasury', 'panel'], refuses: ['case-not-found', 'case-not-approved', 'ledger-refused', 'conflict-of-interest'] },
  async ({ trx, principal: p, requestId, now }: Act, caseId: string, reason: string) => {
    const c = await lockSubmittedCase(trx, caseId);
    if (p.role === 'panel') await assertNotConflicted(trx, c, p);
    if (!mayMove('terminate', c.status))
      throw refuse(RELEASES_REFUSALS, 'case-not-approved', `${c.reference} is ${c.status}; only an approved award can be terminated.`);
    const round = await getRound(trx, c.roundId);
    const open = (await tranchesOf(trx, c, round)).filter((t) => t.status === 'scheduled' || t.status === 'claimed');
    const results = await createTransfers(
      trx,
      open.map((t, i) => ({
        id: `terminate/${caseId}/${t.number}`,
        pendingId: t.pendingTransferId,
        voidPendingTransfer: true,
        linked: i < open.length - 1,
        reference: `${c.reference} terminated`,
      })),
      now,
    );
    const failed = results.find((r) => 'error' in r);
    if (failed && 'error' in failed)
      throw refuse(LEDGER_REFUSALS, 'ledger-refused', `${failed.id}: ${failed.error}.`, {
        ledgerError: failed.error,
      });
    const at = now.toISOString();
    for (const t of open) {
      await trx
        .updateTable('tranches')
        .set({ status: 'voided', voided_at: at })
        .where('case_id', '=', caseId)
        .where('number', '=', t.number)
        .execute();
    }
    await moveCase(trx, c, 'terminate', at);
    // Offsets lapse with the tranches they were against: the whole reservation returns to the fund.
    const voided = open.reduce((s, t) => s + t.amountPence, 0n);
    await appendAudit(
      trx,
      {
        actor: actorOf(p),
        action: 'case.terminated',
        subject: SUBJECT.case(caseId),
        detail: { reason, voidedPence: voided, tranches: open.map((t) => t.number) },
        requestId,
      },
      now,
    );
    return { caseId, voidedPence: voided, tranches: await tranchesOf(trx, c, round) };
  },
);

export interface Clawback {
  id: string;
  caseId: string;
  kind: 'refund' | 'offset';
  amountPence: Pence;
  reason: string;
  trancheNumber: number | null;
  transferId: string | null;
  recordedBy: string;
  recordedAt: string;
}

export async function listClawbacks(db: Db | Tx, caseId: string): Promise<Clawback[]> {
  const rows = await db.selectFrom('clawbacks').selectAll().where('case_id', '=', caseId).orderBy('recorded_at').orderBy('id').execute();
  return rows.map((r) => ({
    id: r.id,
    caseId: r.case_id,
    kind: r.kind as Clawback['kind'],
    amountPence: BigInt(r.amount_pence),
    reason: r.reason,
    trancheNumber: r.tranche_number === null ? null : Number(r.tranche_number),
    transferId: r.transfer_id,
    recordedBy: r.recorded_by,
    recordedAt: r.recorded_at,
  }));
}

/**
 * Claws money back: a refund moves it from the council to the fund now; an offset withholds it
 * from a later tranche. Either way, never more than has been released and not yet clawed back.
 * Refusals: `forbidden`; case-not-found (404), case-not-approved (409), clawback-exceeds-released
 * (422), offset-exceeds-tranche (422), ledger-refused (422), tranche-not-found (404),
 * tranche-closed (409), tranche-already-released (409), conflict-of-interest (403).
 */
export const clawBack = operation(
  {
    roles: ['treasury', 'panel'],
    refuses: [
      'case-not-found',
      'case-not-approved',
      'clawback-exceeds-released',
      'offset-exceeds-tranche',
      'ledger-refused',
      'tranche-not-found',
      'tranche-closed',
      'tranche-already-released',
      'conflict-of-interest',
    ],
  },
  async (
    { trx, principal: p, requestId, now }: Act,
    caseId: string,
    input: { kind: 'refund' | 'offset'; amountPence: Pence; reason: string; trancheNumber?: number },
  ): Promise<Clawback> => {
    const c = await lockSubmittedCase(trx, caseId);
    if (p.role === 'panel') await assertNotConflicted(trx, c, p);
    const round = await getRound(trx, c.roundId);
    const tranches = await tranchesOf(trx, c, round);
    const released = tranches.reduce((s, t) => s + (t.releasedPence ?? 0n), 0n);
    const clawed = clawedBack(tranches, await listClawbacks(trx, caseId));
    if (input.amountPence <= 0n) throw invalid([{ pointer: '/amountPence', detail: 'must be more than £0' }]);
    if (clawed + input.amountPence > released) {
      throw refuse(
        RELEASES_REFUSALS,
        'clawback-exceeds-released',
        `${formatPence(released)} has been released for ${c.reference} and ${formatPence(clawed)} already clawed back; ${formatPence(input.amountPence)} more would exceed it.`,
      );
    }
    const id = randomUUID();
    let transferId: string | null = null;
    if (input.kind === 'refund') {
      if (input.trancheNumber !== undefined) throw invalid([{ pointer: '/trancheNumber', detail: 'only an offset names a tranche' }]);
      transferId = `clawback/${caseId}/${id}`;
      const [result] = await createTransfers(
        trx,
        [
          {
            id: transferId,
            debitAccountId: councilAccountId(round.financialYear, c.leadCouncilCode),
            creditAccountId: fundAccounts.fund(round.financialYear),
            amount: input.amountPence,
            ledger: 'GBP',
            code: 'clawback',
            reference: `${c.reference}: ${input.reason}`.slice(0, 500),
          },
        ],
        now,
      );
      if (!result || 'error' in result) {
        throw refuse(LEDGER_REFUSALS, 'ledger-refused', `${c.reference}: ${result?.error}.`, {
          ledgerError: result?.error,
        });
      }
    } else {
      const target = tranches.find((t) => t.number === input.trancheNumber);
      if (input.trancheNumber === undefined || !target) {
        throw invalid([
          { pointer: '/trancheNumber', detail: `an offset names a later tranche of ${c.reference} that is not yet released` },
        ]);
      }
      if (target.status === 'released' || target.status === 'voided') {
        throw refuse(RELEASES_REFUSALS, 'tranche-closed', `Tranche ${target.number} of ${c.reference} is ${target.status}.`);
      }
      if (target.offsetPence + input.amountPence > target.amountPence) {
        throw refuse(
          RELEASES_REFUSALS,
          'offset-exceeds-tranche',
          `Tranche ${target.number} is ${formatPence(target.amountPence)}; it cannot carry ${formatPence(target.offsetPence + input.amountPence)} of offsets.`,
        );
      }
      await trx
        .updateTable('tranches')
        .set({ offset_pence: target.offsetPence + input.amountPence })
        .where('case_id', '=', caseId)
        .where('number', '=', target.number)
        .execute();
    }
    const k: Clawback = {
      id,
      caseId,
      kind: input.kind,
      amountPence: input.amountPence,
      reason: input.reason,
      trancheNumber: input.trancheNumber ?? null,
      transferId,
      recordedBy: p.userId,
      recordedAt: now.toISOString(),
    };
    await trx
      .insertInto('clawbacks')
      .values({
        id,
        case_id: caseId,
        kind: k.kind,
        amount_pence: k.amountPence,
        reason: k.reason,
        tranche_number: k.trancheNumber,
        transfer_id: transferId,
        recorded_by: p.userId,
        recorded_at: k.recordedAt,
      })
      .execute();
    await appendAudit(trx, { actor: actorOf(p), action: `clawback.${k.kind}`, subject: SUBJECT.case(caseId), detail: k, requestId }, now);
    return k;
  },
);

/**
 * What has been clawed back: every refund, and every offset except those against a tranche that
 * was voided (terminating an award cancels its offsets: they recovered nothing).
 */
function clawedBack(tranches: TrancheState[], clawbacks: Clawback[]): Pence {
  const voided = new Set(tranches.filter((t) => t.status === 'voided').map((t) => t.number));
  return clawbacks.reduce(
    (s, k) => (k.kind === 'offset' && k.trancheNumber !== null && voided.has(k.trancheNumber) ? s : s + k.amountPence),
    0n,
  );
}

/** The award's money, which must always add up: released + committed + voided (and offset) = award. */
export async function awardPosition(db: Db | Tx, caseId: string) {
  const tranches = await listTranches(db, caseId);
  const clawbacks = await listClawbacks(db, caseId);
  const sum = (f: (t: TrancheState) => bigint) => tranches.reduce((s, t) => s + f(t), 0n);
  return {
    awardPence: sum((t) => t.amountPence),
    releasedPence: sum((t) => t.releasedPence ?? 0n),
    committedPence: sum((t) => (t.status === 'scheduled' || t.status === 'claimed' ? t.amountPence : 0n)),
    voidedPence: sum((t) =>
      t.status === 'voided' ? t.amountPence : t.status === 'released' ? t.amountPence - (t.releasedPence ?? 0n) : 0n,
    ),
    clawedBackPence: clawedBack(tranches, clawbacks),
    refundedPence: clawbacks.filter((k) => k.kind === 'refund').reduce((s, k) => s + k.amountPence, 0n),
  };
}

/** A claimed tranche as an approver sees it: the four-eyes rule's state, and whether they may approve it. */
export interface AwaitingApproval {
  caseId: string;
  reference: string;
  title: string;
  leadCouncilCode: string;
  tranche: TrancheState;
  claimedByName: string | null;
  /** What the release would pay: the tranche less any offset. */
  paymentPence: Pence;
  twoApproverThresholdPence: Pence;
  /** The approvals so far, each saying whether it counts under the four-eyes rule (./four-eyes.ts). */
  approvers: { userId: string; name: string; approvedAt: string; counts: boolean }[];
  countedApprovals: number;
  /** Null when the reader may approve; else why not, in the rule's words. */
  whyNot: string | null;
}

/**
 * Every claimed tranche waiting for approval, oldest claim first, with how many independent
 * approvals it needs, who has approved, and whether the reader may approve it and if not why (the
 * four-eyes rule, ./four-eyes.ts, as `approveTranche` applies it). Callers: whoever may approve
 * (panel, treasury). Refusal: `forbidden` (role). Amounts in pence.
 */
export const awaitingApproval = operation(
  { roles: approveTranche.roles },
  async ({ db, principal: p }: Look): Promise<AwaitingApproval[]> => {
    const claimed = await db
      .selectFrom('tranches')
      .select(['case_id', 'number'])
      .where('status', '=', 'claimed')
      .orderBy('claimed_at')
      .orderBy('case_id')
      .execute();
    const out: AwaitingApproval[] = [];
    for (const row of claimed) {
      const c = await getCase(db, row.case_id);
      const round = await getRound(db, c.roundId);
      const t = (await tranchesOf(db, c, round)).find((x) => x.number === Number(row.number)) as TrancheState;
      const ids = [...new Set([...t.approvals.map((a) => a.userId), ...(t.claimedBy ? [t.claimedBy] : [])])];
      const names = new Map(
        ids.length === 0
          ? []
          : (await db.selectFrom('users').select(['id', 'name']).where('id', 'in', ids).execute()).map((u) => [u.id, u.name] as const),
      );
      const parties = await releaseParties(db, c.id, t.claimedBy, [...t.approvals.map((a) => a.userId), p.userId]);
      const counted = countedApprovals(parties, t.approvals);
      const whyNot = t.approvals.some((a) => a.userId === p.userId)
        ? 'you have already approved it; it needs a different approver'
        : independenceProblem(
            parties,
            p.userId,
            counted.map((a) => a.userId),
          );
      out.push({
        caseId: c.id,
        reference: c.reference,
        title: c.title,
        leadCouncilCode: c.leadCouncilCode,
        tranche: t,
        claimedByName: t.claimedBy ? (names.get(t.claimedBy) ?? null) : null,
        paymentPence: t.amountPence - t.offsetPence,
        twoApproverThresholdPence: round.twoApproverThresholdPence,
        approvers: t.approvals.map((a) => ({ ...a, name: names.get(a.userId) ?? a.userId, counts: counted.includes(a) })),
        countedApprovals: counted.length,
        whyNot,
      });
    }
    return out;
  },
);
