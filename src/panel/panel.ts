import type { AppraisalResult, VfmBand } from '../appraisal/types.ts';
import { appendAudit, SUBJECT } from '../audit/audit.ts';
import { keepCaseRegister } from '../benefits/benefits.ts';
import { caseAppraisal, caseAppraisals } from '../cases/appraisal.ts';
import { CASE_MOVES, type CaseStatus, moveCase } from '../cases/lifecycle.ts';
import { type Case, caseFromRow } from '../cases/records.ts';
import { getReadableCase, lockSubmittedCase, SUBMITTED_STATUSES } from '../cases/visibility.ts';
import type { Db, Tx } from '../db/database.ts';
import { forbidden, invalid } from '../lib/errors.ts';
import { formatPence, type Pence } from '../lib/money.ts';
import { type Act, type Look, operation } from '../lib/operation.ts';
import { refuse } from '../lib/refusals.ts';
import { commitAward, type Tranche, type TrancheInput, trancheSchedule } from '../releases/releases.ts';
import { getRound, type Round, VALUE_FOR_MONEY } from '../rounds/rounds.ts';
import { actorOf, type Principal } from '../users/users.ts';
import { assertNotConflicted, isConflicted } from './conflicts.ts';
import { PANEL_REFUSALS } from './refusals.ts';

/*
 * The Whitehall panel: members declare conflicts (a conflicted member neither scores nor
 * decides that case), score each criterion 0–5 with a justification, and once a quorum has
 * scored, the moderated score (the mean of members, unless the chair moderates with a reason)
 * ranks the round. A decision approves (an amount up to the request, conditions, a tranche
 * schedule), rejects or defers, with reasons. A poor value-for-money case needs a treasury
 * override before it can be approved.
 */

export type { Tranche, TrancheInput } from '../releases/releases.ts';

/** The value-for-money criterion's suggested score for each band. */
export const SUGGESTED_VFM_SCORE: Record<VfmBand, number> = { poor: 1, low: 2, medium: 3, high: 4, 'very-high': 5 };

/** A case is scored, moderated and decided while the panel may still decide it (src/cases/lifecycle.ts). */
const SCOREABLE = CASE_MOVES.approve.from as readonly CaseStatus[];

/**
 * A panel member declares a conflict of interest in a case: from then on they neither score,
 * moderate, decide nor approve its releases, and what they did that is still open is void (their
 * moderation, their approvals of unreleased tranches). Refusals: `forbidden`, `case-not-found`,
 * `conflict-already-declared` (409).
 * It can also refuse: case-decided (409).
 */
export const declareConflict = operation(
  { roles: ['panel'], refuses: ['case-not-found', 'conflict-already-declared', 'case-decided'] },
  async ({ trx, principal: p, requestId, now }: Act, caseId: string, reason: string) => {
    const c = await lockSubmittedCase(trx, caseId);
    if (await isConflicted(trx, caseId, p.userId)) {
      throw refuse(PANEL_REFUSALS, 'conflict-already-declared', `You have already declared a conflict in ${c.reference}.`);
    }
    const row = { case_id: caseId, user_id: p.userId, reason, declared_at: now.toISOString() };
    await trx.insertInto('panel_conflicts').values(row).execute();
    // A conflict declared after acting voids what the member did that is still open: their
    // moderation of the case (the ranking falls back to the members' mean) and their approvals of
    // tranches not yet released. Their scores already drop out with the conflict.
    const moderation = await trx
      .selectFrom('panel_moderations')
      .select(['score_hundredths', 'reason'])
      .where('case_id', '=', caseId)
      .where('moderated_by', '=', p.userId)
      .where('voided_at', 'is', null)
      .executeTakeFirst();
    if (moderation) {
      await trx.updateTable('panel_moderations').set({ voided_at: row.declared_at }).where('case_id', '=', caseId).execute();
    }
    const pending = (
      await trx
        .selectFrom('tranche_approvals as a')
        .innerJoin('tranches as t', (j) => j.onRef('t.case_id', '=', 'a.case_id').onRef('t.number', '=', 'a.number'))
        .select('a.number')
        .where('a.case_id', '=', caseId)
        .where('a.user_id', '=', p.userId)
        .where('a.voided_at', 'is', null)
        .where('t.status', '=', 'claimed')
        .execute()
    ).map((a) => Number(a.number));
    if (pending.length > 0) {
      await trx
        .updateTable('tranche_approvals')
        .set({ voided_at: row.declared_at })
        .where('case_id', '=', caseId)
        .where('user_id', '=', p.userId)
        .where('number', 'in', pending)
        .execute();
    }
    await appendAudit(
      trx,
      {
        actor: actorOf(p),
        action: 'panel.conflict-declared',
        subject: SUBJECT.case(caseId),
        detail: {
          reason,
          voidedModeration: moderation ? { score: Number(moderation.score_hundredths) / 100, reason: moderation.reason } : null,
          voidedApprovals: pending,
        },
        requestId,
      },
      now,
    );
    return { caseId, userId: p.userId, reason, declaredAt: row.declared_at };
  },
);

export interface ScoreInput {
  criterion: string;
  score: number;
  justification: string;
}

/**
 * A panel member without a conflict scores the case 0–5 on the round's criteria, each with a
 * justification (a new score replaces their earlier one). Changes: the scores, an audit entry.
 * Refusals: `forbidden`; case-not-found (404), conflict-of-interest (403), case-decided (409).
 */
export const recordScores = operation(
  { roles: ['panel'], refuses: ['case-not-found', 'conflict-of-interest', 'case-decided'] },
  async ({ trx, principal: p, requestId, now }: Act, caseId: string, scores: ScoreInput[]) => {
    const c = await lockSubmittedCase(trx, caseId);
    await assertNotConflicted(trx, c, p);
    if (!SCOREABLE.includes(c.status)) {
      throw refuse(PANEL_REFUSALS, 'case-decided', `${c.reference} was ${c.status}; its scores are final.`);
    }
    const round = await getRound(trx, c.roundId);
    const keys = new Set(round.criteria.map((k) => k.key));
    const errors = scores.flatMap((s, i) =>
      keys.has(s.criterion)
        ? []
        : [
            {
              pointer: `/scores/${i}/criterion`,
              detail: `round ${round.id} has no criterion ${s.criterion}; it scores ${[...keys].join(', ')}`,
            },
          ],
    );
    if (new Set(scores.map((s) => s.criterion)).size !== scores.length)
      errors.push({ pointer: '/scores', detail: 'scores a criterion twice' });
    if (errors.length > 0) throw invalid(errors);
    const at = now.toISOString();
    if (scores.length > 0) {
      await trx
        .deleteFrom('panel_scores')
        .where('case_id', '=', caseId)
        .where('user_id', '=', p.userId)
        .where(
          'criterion',
          'in',
          scores.map((s) => s.criterion),
        )
        .execute();
      await trx
        .insertInto('panel_scores')
        .values(
          scores.map((s) => ({
            case_id: caseId,
            user_id: p.userId,
            criterion: s.criterion,
            score: s.score,
            justification: s.justification,
            scored_at: at,
          })),
        )
        .execute();
    }
    await appendAudit(
      trx,
      { actor: actorOf(p), action: 'panel.scored', subject: SUBJECT.case(caseId), detail: { scores }, requestId },
      now,
    );
    return scoreboard(trx, c, round);
  },
);

export interface Scoreboard {
  caseId: string;
  criteria: { key: string; name: string; weight: number; suggestedScore: number | null; meanScore: number | null }[];
  members: {
    userId: string;
    name: string;
    complete: boolean;
    weightedScore: number | null;
    scores: { criterion: string; score: number; justification: string; scoredAt: string }[];
  }[];
  conflicts: { userId: string; name: string; reason: string; declaredAt: string }[];
  quorum: number;
  /** Members (not conflicted) who have scored every criterion. */
  completeMembers: number;
  quorumMet: boolean;
  /** Mean of the complete members' weighted scores (0–5), to 2 dp. */
  meanScore: number | null;
  moderation: { score: number; reason: string; moderatedBy: string; moderatedAt: string } | null;
  /** The score that ranks the case: the chair's moderation if any, else the mean. */
  moderatedScore: number | null;
  vfmBand: VfmBand | null;
}

/** Half-even to 2 dp of an exact fraction num/den (both ≥ 0), as a number. */
function twoDp(num: bigint, den: bigint): number {
  const scaled = num * 100n;
  let q = scaled / den;
  const r = scaled % den;
  if (r * 2n > den || (r * 2n === den && q % 2n === 1n)) q += 1n;
  return Number(q) / 100;
}

/** A case's scoreboard, with its round if the caller holds it (else it is read). */
export async function scoreboard(db: Db | Tx, c: Case, round?: Round): Promise<Scoreboard> {
  const r = round ?? (await getRound(db, c.roundId));
  return scoreboardWith(db, c, r, await caseAppraisal(db, c).catch(() => null));
}

/** What the panel has recorded on a case: its members' scores, conflicts declared, and the chair's moderation. */
interface PanelRecords {
  scores: { userId: string; name: string; criterion: string; score: number | bigint | string; justification: string; scoredAt: string }[];
  conflicts: { userId: string; name: string; reason: string; declaredAt: string }[];
  moderation: { score_hundredths: number | bigint | string; reason: string; moderated_by: string; moderated_at: string } | undefined;
}

/** The panel's records on each of `caseIds`, read together (a few hundred cases a query). */
async function panelRecordsOf(db: Db | Tx, caseIds: string[]): Promise<Map<string, PanelRecords>> {
  const out = new Map<string, PanelRecords>(caseIds.map((id) => [id, { scores: [], conflicts: [], moderation: undefined }]));
  for (let i = 0; i < caseIds.length; i += 500) {
    const ids = caseIds.slice(i, i + 500);
    const [scores, conflicts, moderations] = await Promise.all([
      db
        .selectFrom('panel_scores')
        .innerJoin('users', 'users.id', 'panel_scores.user_id')
        .select([
          'case_id as caseId',
          'panel_scores.user_id as userId',
          'users.name as name',
          'criterion',
          'score',
          'justification',
          'scored_at as scoredAt',
        ])
        .where('case_id', 'in', ids)
        .orderBy('users.name')
        .orderBy('criterion')
        .execute(),
      db
        .selectFrom('panel_conflicts')
        .innerJoin('users', 'users.id', 'panel_conflicts.user_id')
        .select(['case_id as caseId', 'panel_conflicts.user_id as userId', 'users.name as name', 'reason', 'declared_at as declaredAt'])
        .where('case_id', 'in', ids)
        .execute(),
      db.selectFrom('panel_moderations').selectAll().where('case_id', 'in', ids).where('voided_at', 'is', null).execute(),
    ]);
    for (const { caseId, ...s } of scores) out.get(caseId)?.scores.push(s);
    for (const { caseId, ...k } of conflicts) out.get(caseId)?.conflicts.push(k);
    for (const m of moderations) {
      const records = out.get(m.case_id);
      if (records) records.moderation = m;
    }
  }
  return out;
}

/** A case's scoreboard, given its round and its appraisal (null if it has none) as the caller loaded them. */
async function scoreboardWith(db: Db | Tx, c: Case, r: Round, appraisal: { result: AppraisalResult } | null): Promise<Scoreboard> {
  return boardOf(c, r, appraisal, (await panelRecordsOf(db, [c.id])).get(c.id) as PanelRecords);
}

/** A case's scoreboard from what was recorded on it: each member's weighted score, the mean of those complete, quorum, moderation. */
function boardOf(c: Case, r: Round, appraisal: { result: AppraisalResult } | null, records: PanelRecords): Scoreboard {
  const { scores, conflicts, moderation } = records;
  const conflicted = new Set(conflicts.map((x) => x.userId));
  const totalWeight = BigInt(r.criteria.reduce((s, k) => s + k.weight, 0));
  const byMember = new Map<string, { name: string; scores: Scoreboard['members'][number]['scores'] }>();
  for (const s of scores) {
    if (conflicted.has(s.userId)) continue;
    const m = byMember.get(s.userId) ?? { name: s.name, scores: [] };
    m.scores.push({ criterion: s.criterion, score: Number(s.score), justification: s.justification, scoredAt: s.scoredAt });
    byMember.set(s.userId, m);
  }
  const members = [...byMember].map(([userId, m]) => {
    const complete = r.criteria.every((k) => m.scores.some((s) => s.criterion === k.key));
    // Σ weight × score over Σ weight: exact, then rounded for show.
    const weighted = r.criteria.reduce(
      (sum, k) => sum + BigInt(k.weight) * BigInt(m.scores.find((s) => s.criterion === k.key)?.score ?? 0),
      0n,
    );
    return { userId, name: m.name, complete, weightedNumerator: weighted, scores: m.scores };
  });
  const complete = members.filter((m) => m.complete);
  const sumNumerators = complete.reduce((s, m) => s + m.weightedNumerator, 0n);
  const meanScore = complete.length > 0 && totalWeight > 0n ? twoDp(sumNumerators, totalWeight * BigInt(complete.length)) : null;
  const band = appraisal?.result.vfmBand ?? null;
  const criteria = r.criteria.map((k) => {
    const given = complete.flatMap((m) => m.scores.filter((s) => s.criterion === k.key).map((s) => BigInt(s.score)));
    return {
      ...k,
      suggestedScore: k.key === VALUE_FOR_MONEY && band ? SUGGESTED_VFM_SCORE[band] : null,
      meanScore:
        given.length > 0
          ? twoDp(
              given.reduce((a, b) => a + b, 0n),
              BigInt(given.length),
            )
          : null,
    };
  });
  const mod = moderation
    ? {
        score: Number(moderation.score_hundredths) / 100,
        reason: moderation.reason,
        moderatedBy: moderation.moderated_by,
        moderatedAt: moderation.moderated_at,
      }
    : null;
  return {
    caseId: c.id,
    criteria,
    members: members.map(({ weightedNumerator, ...m }) => ({
      ...m,
      weightedScore: m.complete && totalWeight > 0n ? twoDp(weightedNumerator, totalWeight) : null,
    })),
    conflicts,
    quorum: r.quorum,
    completeMembers: complete.length,
    quorumMet: complete.length >= r.quorum,
    meanScore,
    moderation: mod,
    moderatedScore: mod ? mod.score : meanScore,
    vfmBand: band,
  };
}

/**
 * **Only the panel chair moderates scores** (sets the moderated score a case is ranked by). Any
 * panel member may record a decision (DESIGN's table of users: the panel decides). Refuses
 * `forbidden` (403) anyone else.
 */
export function assertChair(p: Principal): void {
  if (p.role !== 'panel' || !p.isChair) throw forbidden('Only the panel chair moderates scores.');
}

/**
 * The chair sets the case's score, with a reason, in place of the members' mean.
 * Refusals: `forbidden`; case-not-found (404), conflict-of-interest (403), case-decided (409),
 * quorum-not-met (422).
 */
export const moderate = operation(
  {
    roles: ['panel'],
    organisation: 'the chair of the panel',
    refuses: ['case-not-found', 'conflict-of-interest', 'case-decided', 'quorum-not-met'],
  },
  async ({ trx, principal: p, requestId, now }: Act, caseId: string, score: number, reason: string) => {
    const c = await lockSubmittedCase(trx, caseId);
    assertChair(p);
    await assertNotConflicted(trx, c, p);
    if (!SCOREABLE.includes(c.status)) throw refuse(PANEL_REFUSALS, 'case-decided', `${c.reference} was ${c.status}.`);
    const hundredths = Math.round(score * 100);
    await trx.deleteFrom('panel_moderations').where('case_id', '=', caseId).execute();
    await trx
      .insertInto('panel_moderations')
      .values({ case_id: caseId, score_hundredths: hundredths, reason, moderated_by: p.userId, moderated_at: now.toISOString() })
      .execute();
    await appendAudit(
      trx,
      {
        actor: actorOf(p),
        action: 'panel.moderated',
        subject: SUBJECT.case(caseId),
        detail: { score: hundredths / 100, reason },
        requestId,
      },
      now,
    );
    return scoreboard(trx, c);
  },
);

export interface RankedCase {
  rank: number;
  caseId: string;
  reference: string;
  title: string;
  leadCouncilCode: string;
  status: CaseStatus;
  requestedPence: Pence;
  cumulativeRequestedPence: Pence;
  withinEnvelope: boolean;
  moderatedScore: number | null;
  quorumMet: boolean;
  bcr: number | null;
  vfmBand: VfmBand | null;
}

/** The round's submitted cases with their scoreboards and appraisals, best moderated score first; unscored last, by reference. */
async function rankedEntries(db: Db | Tx, round: Round) {
  const rows = await db
    .selectFrom('cases')
    .selectAll()
    .where('round_id', '=', round.id)
    .where('status', 'in', SUBMITTED_STATUSES)
    .execute();
  // The round's cases, their appraisals and the panel's records on them, each read together.
  const cases = rows.map(caseFromRow);
  const ids = cases.map((c) => c.id);
  const [appraisals, records] = await Promise.all([caseAppraisals(db, cases), panelRecordsOf(db, ids)]);
  const entries = cases.map((c) => {
    const appraisal = appraisals.get(c.id) ?? null;
    return { c, board: boardOf(c, round, appraisal, records.get(c.id) as PanelRecords), appraisal };
  });
  entries.sort((a, b) => (b.board.moderatedScore ?? -1) - (a.board.moderatedScore ?? -1) || a.c.reference.localeCompare(b.c.reference));
  let cumulative = 0n;
  return entries.map((e, i) => {
    cumulative += e.c.requestedPence;
    const ranked: RankedCase = {
      rank: i + 1,
      caseId: e.c.id,
      reference: e.c.reference,
      title: e.c.title,
      leadCouncilCode: e.c.leadCouncilCode,
      status: e.c.status,
      requestedPence: e.c.requestedPence,
      cumulativeRequestedPence: cumulative,
      withinEnvelope: cumulative <= round.envelopePence,
      moderatedScore: e.board.moderatedScore,
      quorumMet: e.board.quorumMet,
      bcr: e.appraisal?.result.bcr ?? null,
      vfmBand: e.appraisal?.result.vfmBand ?? null,
    };
    return { ranked, board: e.board, appraisal: e.appraisal?.result ?? null };
  });
}

/** The round's submitted cases, best moderated score first; unscored cases last, by reference. */
export async function ranking(db: Db | Tx, roundId: string): Promise<{ round: Round; cases: RankedCase[] }> {
  const round = await getRound(db, roundId);
  return { round, cases: (await rankedEntries(db, round)).map((e) => e.ranked) };
}

/**
 * Treasury records that a poor value-for-money case may still be approved, and why.
 * Refusals: `forbidden`; case-not-found (404), override-not-needed (409), override-exists (409),
 * case-decided (409).
 */
export const grantVfmOverride = operation(
  { roles: ['treasury'], refuses: ['case-not-found', 'override-not-needed', 'override-exists', 'case-decided'] },
  async ({ trx, principal: p, requestId, now }: Act, caseId: string, reason: string) => {
    const c = await lockSubmittedCase(trx, caseId);
    const { result } = await caseAppraisal(trx, c);
    if (result.vfmBand !== 'poor') {
      throw refuse(
        PANEL_REFUSALS,
        'override-not-needed',
        `${c.reference} is in the ${result.vfmBand ?? 'unbanded'} value-for-money band; only poor cases need an override.`,
      );
    }
    const existing = await trx.selectFrom('vfm_overrides').select('case_id').where('case_id', '=', caseId).executeTakeFirst();
    if (existing) throw refuse(PANEL_REFUSALS, 'override-exists', `${c.reference} already has a treasury override.`);
    const row = { case_id: caseId, reason, granted_by: p.userId, granted_at: now.toISOString() };
    await trx.insertInto('vfm_overrides').values(row).execute();
    await appendAudit(
      trx,
      { actor: actorOf(p), action: 'case.vfm-overridden', subject: SUBJECT.case(caseId), detail: { reason, bcr: result.bcr }, requestId },
      now,
    );
    return { caseId, reason, grantedBy: p.userId, grantedAt: row.granted_at };
  },
);

export interface DecisionInput {
  outcome: 'approve' | 'reject' | 'defer';
  reasons: string;
  amountPence?: Pence;
  conditions?: string[];
  tranches?: TrancheInput[];
}

export interface Decision {
  caseId: string;
  sequence: number;
  outcome: DecisionInput['outcome'];
  reasons: string;
  amountPence: Pence | null;
  conditions: string[];
  tranches: Tranche[];
  decidedBy: string;
  decidedAt: string;
}

/**
 * A panel member without a conflict decides a case once quorum has scored: approve (an amount in
 * pence up to the request, conditions, a tranche schedule; the award is reserved tranche by tranche
 * in the ledger), reject or defer, with reasons. Changes: the decision, the case's status, the
 * reservations, on approval the kept benefits register (its rows for the case), an audit entry.
 * Refusals: `forbidden`; case-not-found (404), conflict-of-interest (403), case-decided (409),
 * quorum-not-met (422), amount-exceeds-request (422), vfm-override-required (422),
 * insufficient-funds (422), ledger-refused (422), financial-year-not-found (404),
 * register-total-too-large (422: the approved case's appraised benefits would take the register's total past 2^53 − 1 pence).
 */
export const decide = operation(
  {
    roles: ['panel'],
    refuses: [
      'case-not-found',
      'conflict-of-interest',
      'case-decided',
      'quorum-not-met',
      'amount-exceeds-request',
      'vfm-override-required',
      'insufficient-funds',
      'ledger-refused',
      'financial-year-not-found',
      'register-total-too-large',
    ],
  },
  async ({ trx, principal: p, requestId, now }: Act, caseId: string, input: DecisionInput): Promise<Decision> => {
    const c = await lockSubmittedCase(trx, caseId);
    await assertNotConflicted(trx, c, p);
    if (!SCOREABLE.includes(c.status)) throw refuse(PANEL_REFUSALS, 'case-decided', `${c.reference} was ${c.status}.`);
    const today = now.toISOString().slice(0, 10);
    let amount: Pence | null = null;
    let tranches: Tranche[] = [];
    const round = input.outcome === 'approve' ? await getRound(trx, c.roundId) : null;
    if (round) {
      const board = await scoreboard(trx, c, round);
      if (!board.quorumMet) {
        throw refuse(
          PANEL_REFUSALS,
          'quorum-not-met',
          `${board.completeMembers} member${board.completeMembers === 1 ? ' has' : 's have'} scored ${c.reference} in full; the round needs ${round.quorum}.`,
        );
      }
      amount = input.amountPence ?? c.requestedPence;
      if (amount <= 0n) throw invalid([{ pointer: '/amountPence', detail: 'an award must be more than £0' }]);
      if (amount > c.requestedPence) {
        throw refuse(
          PANEL_REFUSALS,
          'amount-exceeds-request',
          `${formatPence(amount)} is more than the ${formatPence(c.requestedPence)} ${c.reference} asked for.`,
        );
      }
      if (board.vfmBand === 'poor') {
        const override = await trx.selectFrom('vfm_overrides').select('case_id').where('case_id', '=', caseId).executeTakeFirst();
        if (!override) {
          throw refuse(
            PANEL_REFUSALS,
            'vfm-override-required',
            `${c.reference} is in the poor value-for-money band; treasury must record an override, with its reason, before it can be approved.`,
          );
        }
      }
      tranches = trancheSchedule(amount, input.tranches, today);
    } else if (input.amountPence !== undefined || input.tranches !== undefined) {
      throw invalid([
        { pointer: input.amountPence !== undefined ? '/amountPence' : '/tranches', detail: `only an approval has an amount and tranches` },
      ]);
    }
    // The whole award is reserved in the fund before the decision is recorded; a short fund refuses it.
    if (round) await commitAward(trx, c, round, tranches, now);
    const count = await trx
      .selectFrom('case_decisions')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('case_id', '=', caseId)
      .executeTakeFirstOrThrow();
    const decision: Decision = {
      caseId,
      sequence: Number(count.n) + 1,
      outcome: input.outcome,
      reasons: input.reasons,
      amountPence: amount,
      conditions: input.conditions ?? [],
      tranches,
      decidedBy: p.userId,
      decidedAt: now.toISOString(),
    };
    await trx
      .insertInto('case_decisions')
      .values({
        case_id: caseId,
        sequence: decision.sequence,
        outcome: decision.outcome,
        reasons: decision.reasons,
        amount_pence: amount,
        conditions: JSON.stringify(decision.conditions),
        tranches: JSON.stringify(tranches, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)),
        decided_by: p.userId,
        decided_at: decision.decidedAt,
      })
      .execute();
    const status = await moveCase(trx, c, input.outcome, decision.decidedAt);
    // An approved case's benefit lines are fixed: its register is kept from now on.
    if (status === 'approved') await keepCaseRegister(trx, c, decision.decidedAt.slice(0, 10));
    await appendAudit(
      trx,
      { actor: actorOf(p), action: `case.${status}`, subject: SUBJECT.case(caseId), detail: decision, requestId },
      now,
    );
    return decision;
  },
);

export async function listDecisions(db: Db | Tx, caseId: string): Promise<Decision[]> {
  const rows = await db.selectFrom('case_decisions').selectAll().where('case_id', '=', caseId).orderBy('sequence').execute();
  return rows.map((r) => ({
    caseId: r.case_id,
    sequence: Number(r.sequence),
    outcome: r.outcome as Decision['outcome'],
    reasons: r.reasons,
    amountPence: r.amount_pence === null ? null : BigInt(r.amount_pence),
    conditions: JSON.parse(r.conditions) as string[],
    tranches: (JSON.parse(r.tranches) as (Omit<Tranche, 'amountPence'> & { amountPence: string })[]).map((t) => ({
      ...t,
      amountPence: BigInt(t.amountPence),
    })),
    decidedBy: r.decided_by,
    decidedAt: r.decided_at,
  }));
}

// ---------------------------------------------------------------------------------------------
// Reads for the panel's pages and routes

/** Who reads the panel's scores and a round's ranking: the panel, treasury and auditors. */
export const PANEL_READERS = { roles: ['panel', 'treasury', 'auditor'] } as const;

/**
 * A submitted case's scoreboard (see `scoreboard`). Callers: panel, treasury, auditors. Refusals:
 * `forbidden` (role), `case-not-found` (no such case, or a draft).
 */
export const caseScoreboard = operation(PANEL_READERS, async ({ db, principal }: Look, caseId: string): Promise<Scoreboard> => {
  const c = await getReadableCase(db, principal, caseId);
  return scoreboard(db, c);
});

/**
 * A round's ranking (see `ranking`). Callers: panel, treasury, auditors. Refusals: `forbidden`
 * (role), `round-not-found`.
 */
export const roundRanking = operation(PANEL_READERS, async ({ db }: Look, roundId: string) => ranking(db, roundId));

/** Where a panel member stands with a case: declared a conflict, scored every criterion, some, or none. */
export type ScoringStatus = 'conflict' | 'scored' | 'part-scored' | 'not-scored';

/** One of a round's submitted cases as the panel reviews it: its rank, appraisal headline and the reader's own scoring. */
export interface RoundSubmission extends RankedCase {
  pvCostsPence: Pence | null;
  /** Present value of all benefits (fiscal, economic and social). */
  pvBenefitsPence: Pence | null;
  publicValueNpvPence: Pence | null;
  completeMembers: number;
  quorum: number;
  /** The reader's own scoring (panel members only; null for treasury and auditors). */
  yourScoring: ScoringStatus | null;
}

/** Where `userId` stands with a case on its scoreboard. */
export function scoringStatusOf(board: Scoreboard, userId: string): ScoringStatus {
  if (board.conflicts.some((x) => x.userId === userId)) return 'conflict';
  const mine = board.members.find((m) => m.userId === userId);
  if (!mine || mine.scores.length === 0) return 'not-scored';
  return mine.complete ? 'scored' : 'part-scored';
}

/**
 * A round's submitted cases in ranking order, each with its appraisal headline and (for a panel
 * member) their own scoring status. Callers: panel, treasury, auditors. Refusals: `forbidden`
 * (role), `round-not-found`. Amounts in pence.
 */
export const roundSubmissions = operation(
  PANEL_READERS,
  async ({ db, principal }: Look, roundId: string): Promise<{ round: Round; cases: RoundSubmission[] }> => {
    const round = await getRound(db, roundId);
    const entries = await rankedEntries(db, round);
    return {
      round,
      cases: entries.map(({ ranked, board, appraisal }) => ({
        ...ranked,
        pvCostsPence: appraisal?.pvCostsPence ?? null,
        pvBenefitsPence: appraisal
          ? appraisal.pvBenefitsPence.fiscal + appraisal.pvBenefitsPence.economic + appraisal.pvBenefitsPence.social
          : null,
        publicValueNpvPence: appraisal?.publicValueNpvPence ?? null,
        completeMembers: board.completeMembers,
        quorum: board.quorum,
        yourScoring: principal.role === 'panel' ? scoringStatusOf(board, principal.userId) : null,
      })),
    };
  },
);

/** The treasury override recorded for a poor value-for-money case, or null. */
export async function vfmOverrideOf(
  db: Db | Tx,
  caseId: string,
): Promise<{ caseId: string; reason: string; grantedBy: string; grantedAt: string } | null> {
  const row = await db.selectFrom('vfm_overrides').selectAll().where('case_id', '=', caseId).executeTakeFirst();
  return row ? { caseId: row.case_id, reason: row.reason, grantedBy: row.granted_by, grantedAt: row.granted_at } : null;
}
