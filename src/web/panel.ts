import { DecisionBody, ModerationBody, ReasonBody, ScoresBody } from '../api/panel.routes.ts';
import { TrancheNumber } from '../api/schemas.ts';
import { caseAppraisal } from '../cases/appraisal.ts';
import { NARRATIVE_SECTIONS } from '../cases/records.ts';
import { getReadableCase } from '../cases/visibility.ts';
import type { Deps } from '../http/context.ts';
import { DomainError, type FieldError, invalid } from '../lib/errors.ts';
import { parsePounds, penceAsPoundsInput } from '../lib/money.ts';
import { assertNotConflicted } from '../panel/conflicts.ts';
import {
  assertChair,
  caseScoreboard,
  decide,
  declareConflict,
  grantVfmOverride,
  listDecisions,
  moderate,
  recordScores,
  roundRanking,
  roundSubmissions,
  type Scoreboard,
  scoringStatusOf,
  vfmOverrideOf,
} from '../panel/panel.ts';
import { approveTranche, awaitingApproval, listTranches } from '../releases/releases.ts';
import { getRound, listRounds, roundStatus } from '../rounds/rounds.ts';
import type { Principal } from '../users/users.ts';
import { readAuditLog } from '../verify/report.ts';
import type { PageSection } from './app.ts';
import { caseAppraisalModel } from './council/appraisal.ts';
import {
  actingAsUser,
  checkBody,
  type FormErrors,
  fieldIdOf,
  formErrors,
  formFields,
  lookAs,
  NO_ERRORS,
  named,
  noticeOf,
  render,
  requireRole,
  requireUser,
  tryForm,
  type WebApp,
  type WebContext,
} from './pages.ts';

/*
 * The panel's pages: the funding rounds and each round's submitted cases (by score or by
 * benefit–cost ratio), a case as the panel reads it, declaring a conflict, scoring the round's
 * criteria with a justification each, the ranking, the chair's moderation and decision, Treasury's
 * value-for-money override, and the tranche claims waiting for an approver under the four-eyes
 * rule. Each form is checked against the API's own body schema and then handed to the same domain
 * operation the API calls, so a page refuses exactly what the API refuses, in the same words.
 */

type Fields = Record<string, string>;

/** Field errors in the order their fields appear on the form. */
function inFormOrder(errors: FieldError[], order: (pointer: string) => number): FieldError[] {
  return [...errors].sort((a, b) => order(a.pointer ?? '') - order(b.pointer ?? ''));
}

/** The decision form's fields, top to bottom. */
function decisionOrder(ptr: string): number {
  const top = ['/outcome', '/reasons', '/amountPence', '/conditions'].findIndex((p) => ptr === p || ptr.startsWith(`${p}/`));
  if (top >= 0) return top;
  const m = /^\/tranches\/(\d+)\/(amountPence|earliestOn|condition)$/.exec(ptr);
  return m ? 10 + Number(m[1]) * 3 + ['amountPence', 'earliestOn', 'condition'].indexOf(m[2] as string) : 4;
}

/** Success messages a redirect may ask for (never text from the request). */
const NOTICES: Record<string, string> = {
  scored: 'Your scores have been saved',
  conflict: 'Your conflict of interest has been recorded. You will not score or decide this case',
  moderated: 'The moderated score has been saved',
  decided: 'The decision has been recorded',
  override: 'The value-for-money override has been recorded',
  approved: 'Your approval has been recorded',
  released: 'Your approval has been recorded and the tranche has been released',
};

const SCORING_TAGS = {
  conflict: { text: 'Conflict declared', colour: 'orange' },
  scored: { text: 'Scored', colour: 'green' },
  'part-scored': { text: 'Partly scored', colour: 'yellow' },
  'not-scored': { text: 'Not scored', colour: 'grey' },
} as const;

const STATUS_TAGS: Record<string, { text: string; colour: string }> = {
  submitted: { text: 'Submitted', colour: 'blue' },
  approved: { text: 'Approved', colour: 'green' },
  rejected: { text: 'Rejected', colour: 'red' },
  deferred: { text: 'Deferred', colour: 'yellow' },
  terminated: { text: 'Terminated', colour: 'grey' },
  draft: { text: 'Draft', colour: 'grey' },
};

const VFM_TAGS: Record<string, { text: string; colour: string }> = {
  poor: { text: 'Poor', colour: 'red' },
  low: { text: 'Low', colour: 'orange' },
  medium: { text: 'Medium', colour: 'yellow' },
  high: { text: 'High', colour: 'green' },
  'very-high': { text: 'Very high', colour: 'turquoise' },
};
const vfmTag = (band: string | null) => (band ? VFM_TAGS[band] : { text: 'Not banded', colour: 'grey' });

const NARRATIVE_HEADINGS: Record<(typeof NARRATIVE_SECTIONS)[number], string> = {
  strategic: 'Strategic case',
  economic: 'Economic case',
  commercial: 'Commercial case',
  financial: 'Financial case',
  management: 'Management case',
};

const SCORE_LABELS = ['0 – no evidence', '1 – poor', '2 – weak', '3 – adequate', '4 – good', '5 – excellent'];

/** Names of users by id, for showing who scored, decided and approved. */
async function userNames(deps: Deps, ids: string[]): Promise<Map<string, string>> {
  const wanted = [...new Set(ids)];
  if (wanted.length === 0) return new Map();
  const rows = await deps.database.db.selectFrom('users').select(['id', 'name']).where('id', 'in', wanted).execute();
  return new Map(rows.map((r) => [r.id, r.name]));
}

// ---------------------------------------------------------------------------------------------
// Rounds

function mountRounds(web: WebApp, deps: Deps) {
  web.get('/rounds', async (c) => {
    const p = requireUser(c);
    if (p instanceof Response) return p;
    const today = deps.clock().toISOString().slice(0, 10);
    const rounds = (await listRounds(deps.database.db)).map((r) => ({ ...r, status: roundStatus(r, today) }));
    return render(c, 'panel-rounds', { title: 'Funding rounds', rounds });
  });

  web.get('/rounds/:id', async (c) => {
    const p = requireUser(c);
    if (p instanceof Response) return p;
    const sort = c.req.query('sort') === 'bcr' ? 'bcr' : 'score';
    const { round, cases } = await roundSubmissions(lookAs(deps, p), c.req.param('id'));
    const sorted =
      sort === 'bcr'
        ? [...cases].sort(
            (a, b) => (b.bcr ?? Number.NEGATIVE_INFINITY) - (a.bcr ?? Number.NEGATIVE_INFINITY) || a.reference.localeCompare(b.reference),
          )
        : cases;
    return render(c, 'panel-round', {
      title: round.name,
      backLink: '/rounds',
      round,
      sort,
      byBcr: sort === 'bcr',
      cases: sorted.map((x) => ({
        ...x,
        statusTag: STATUS_TAGS[x.status],
        vfmTag: vfmTag(x.vfmBand),
        scoringTag: x.yourScoring ? SCORING_TAGS[x.yourScoring] : null,
      })),
    });
  });

  web.get('/rounds/:id/ranking', async (c) => {
    const p = requireUser(c);
    if (p instanceof Response) return p;
    const { round, cases } = await roundRanking(lookAs(deps, p), c.req.param('id'));
    return render(c, 'panel-ranking', {
      title: `Ranking: ${round.name}`,
      backLink: `/rounds/${encodeURIComponent(round.id)}`,
      round,
      isPanel: p.role === 'panel',
      cases: cases.map((x) => ({
        ...x,
        statusTag: STATUS_TAGS[x.status],
        vfmTag: vfmTag(x.vfmBand),
        open: x.status === 'submitted' || x.status === 'deferred',
      })),
    });
  });
}

// ---------------------------------------------------------------------------------------------
// A case as the panel reads it

/** Everything the panel's case page shows, read as the signed-in user. */
async function caseView(deps: Deps, p: Principal, id: string) {
  const db = deps.database.db;
  const board = await caseScoreboard(lookAs(deps, p), id);
  const c = await getReadableCase(db, p, id);
  const [round, appraisal, decisions, tranches, override] = await Promise.all([
    getRound(db, c.roundId),
    caseAppraisal(db, c).catch(() => null),
    listDecisions(db, c.id),
    listTranches(db, c.id),
    vfmOverrideOf(db, c.id),
  ]);
  return { c, board, round, appraisal: appraisal?.result ?? null, decisions, tranches, override };
}

type CaseView = Awaited<ReturnType<typeof caseView>>;

const mayStillBeDecided = (v: CaseView) => v.c.status === 'submitted' || v.c.status === 'deferred';

function criteriaView(board: Scoreboard, userId: string) {
  const mine = board.members.find((m) => m.userId === userId);
  return board.criteria.map((k, i) => {
    const s = mine?.scores.find((x) => x.criterion === k.key) ?? null;
    return { ...k, index: i, yours: s };
  });
}

function mountCase(web: WebApp, deps: Deps) {
  web.get('/panel/cases/:id', async (c) => {
    const p = requireUser(c);
    if (p instanceof Response) return p;
    const v = await caseView(deps, p, c.req.param('id'));
    const names = await userNames(deps, [
      ...v.decisions.map((d) => d.decidedBy),
      ...(v.board.moderation ? [v.board.moderation.moderatedBy] : []),
      ...(v.override ? [v.override.grantedBy] : []),
    ]);
    const appraisal = await caseAppraisalModel(deps.database.db, v.c);
    const yourScoring = p.role === 'panel' ? scoringStatusOf(v.board, p.userId) : null;
    const open = mayStillBeDecided(v);
    return render(c, 'panel-case', {
      title: `${v.c.reference}: ${v.c.title}`,
      backLink: `/rounds/${encodeURIComponent(v.c.roundId)}`,
      notice: noticeOf(c, NOTICES),
      c: v.c,
      round: v.round,
      statusTag: STATUS_TAGS[v.c.status],
      narrative: NARRATIVE_SECTIONS.map((k) => ({ key: k, heading: NARRATIVE_HEADINGS[k], text: v.c.narrative[k] })),
      appraisal,
      board: v.board,
      criteria: criteriaView(v.board, p.userId),
      yourScoring,
      yourScoringTag: yourScoring ? SCORING_TAGS[yourScoring] : null,
      isPanel: p.role === 'panel',
      isChair: p.isChair,
      isTreasury: p.role === 'treasury',
      // Those who read the audit log follow the case's whole history there.
      historyHref: (readAuditLog.roles as readonly string[]).includes(p.role)
        ? `/audit-log?case=${encodeURIComponent(v.c.reference)}`
        : null,
      open,
      canScore: p.role === 'panel' && open && yourScoring !== 'conflict',
      canDeclare: p.role === 'panel' && yourScoring !== 'conflict',
      moderatedByName: v.board.moderation ? names.get(v.board.moderation.moderatedBy) : null,
      poorValue: v.board.vfmBand === 'poor',
      override: v.override ? { ...v.override, grantedByName: names.get(v.override.grantedBy) } : null,
      decisions: v.decisions.map((d) => ({
        ...d,
        decidedByName: names.get(d.decidedBy) ?? d.decidedBy,
        outcomeTag: STATUS_TAGS[`${d.outcome === 'approve' ? 'approved' : d.outcome === 'reject' ? 'rejected' : 'deferred'}`],
      })),
      tranches: v.tranches,
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Conflict, scores

function mountScoring(web: WebApp, deps: Deps) {
  const conflictPage = async (c: WebContext, p: Principal, fields: Fields, errors: FormErrors, status: 200 | 400 | 409 = 200) => {
    const v = await caseView(deps, p, c.req.param('id') as string);
    return render(
      c,
      'panel-conflict',
      { title: `Declare a conflict of interest in ${v.c.reference}`, backLink: `/panel/cases/${v.c.id}`, c: v.c, fields, ...errors },
      status,
    );
  };
  web.get('/panel/cases/:id/conflict', async (c) => {
    const p = requireRole(c, declareConflict.roles);
    if (p instanceof Response) return p;
    return conflictPage(c, p, {}, NO_ERRORS);
  });
  web.post('/panel/cases/:id/conflict', async (c) => {
    const p = requireUser(c);
    if (p instanceof Response) return p;
    const fields = await formFields(c);
    const id = c.req.param('id');
    const r = await tryForm(
      () =>
        actingAsUser(deps, c, (act) => {
          const body = checkBody(ReasonBody, { reason: fields.reason ?? '' });
          return declareConflict(act, id, body.reason);
        }),
      { names: { '/reason': 'Reason' } },
    );
    if ('failed' in r)
      return conflictPage(c, p, fields, r.failed, r.failed.errorList.length && !Object.keys(r.failed.errors).length ? 409 : 400);
    return c.redirect(`/panel/cases/${encodeURIComponent(id)}?done=conflict`, 303);
  });

  const scoresPage = async (c: WebContext, p: Principal, fields: Fields | null, errors: FormErrors, status: 200 | 400 | 409 = 200) => {
    const v = await caseView(deps, p, c.req.param('id') as string);
    const criteria = criteriaView(v.board, p.userId).map((k) => {
      const score = fields ? (fields[`score-${k.key}`] ?? '') : k.yours ? String(k.yours.score) : '';
      const justification = fields ? (fields[`justification-${k.key}`] ?? '') : (k.yours?.justification ?? '');
      return {
        ...k,
        scoreId: `scores-${k.index}-score`,
        scoreName: `score-${k.key}`,
        justificationName: `justification-${k.key}`,
        legend: `Your score for ${k.name}`,
        justificationLabel: `Why this score for ${k.name}?`,
        justificationId: `scores-${k.index}-justification`,
        scoreError: errors.errors[`scores-${k.index}-score`],
        justificationError: errors.errors[`scores-${k.index}-justification`],
        justification,
        items: SCORE_LABELS.map((text, n) => ({ value: String(n), text, checked: score === String(n) })),
        hint: k.suggestedScore === null ? null : `The appraisal's value-for-money band suggests ${k.suggestedScore}.`,
      };
    });
    return render(
      c,
      'panel-scores',
      { title: `Score ${v.c.reference}`, backLink: `/panel/cases/${v.c.id}`, c: v.c, criteria, ...errors },
      status,
    );
  };
  web.get('/panel/cases/:id/scores', async (c) => {
    const p = requireRole(c, recordScores.roles);
    if (p instanceof Response) return p;
    const v = await caseView(deps, p, c.req.param('id'));
    // A member with a declared conflict is refused the form as the operation would refuse the scores.
    await assertNotConflicted(deps.database.db, v.c, p);
    return scoresPage(c, p, null, NO_ERRORS);
  });
  web.post('/panel/cases/:id/scores', async (c) => {
    const p = requireUser(c);
    if (p instanceof Response) return p;
    const fields = await formFields(c);
    const id = c.req.param('id');
    const board = await caseScoreboard(lookAs(deps, p), id);
    const criteria = board.criteria;
    const nameOf = (ptr: string) => {
      const m = /^\/scores\/(\d+)\/(score|justification)$/.exec(ptr);
      const k = m ? criteria[Number(m[1])] : undefined;
      if (!m || !k) return null;
      return m[2] === 'score' ? `The score for ${k.name}` : `The justification for ${k.name}`;
    };
    const r = await tryForm(() =>
      actingAsUser(deps, c, (act) => {
        const missing: FieldError[] = [];
        const scores = criteria.map((k, i) => {
          const raw = fields[`score-${k.key}`] ?? '';
          if (!/^[0-5]$/.test(raw)) missing.push({ pointer: `/scores/${i}/score`, detail: `Select a score for ${k.name}` });
          return { criterion: k.key, score: Number(raw), justification: fields[`justification-${k.key}`] ?? '' };
        });
        let body: { scores: typeof scores } | null = null;
        try {
          body = checkBody(ScoresBody, { scores });
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          const all = [...missing, ...error.errors.filter((e) => !missing.some((m) => m.pointer === e.pointer))];
          throw invalid(named(all, (ptr) => (missing.some((m) => m.pointer === ptr) ? null : nameOf(ptr))).sort(byPointer));
        }
        if (missing.length > 0) throw invalid(missing);
        return recordScores(act, id, body.scores);
      }),
    );
    if ('failed' in r) return scoresPage(c, p, fields, r.failed, Object.keys(r.failed.errors).length ? 400 : 409);
    return c.redirect(`/panel/cases/${encodeURIComponent(id)}?done=scored`, 303);
  });
}

/** Field errors in the form's order: by criterion, then score before justification. */
function byPointer(a: FieldError, b: FieldError): number {
  const key = (e: FieldError) => {
    const m = /^\/scores\/(\d+)\/(score|justification)$/.exec(e.pointer ?? '');
    return m ? Number(m[1]) * 2 + (m[2] === 'score' ? 0 : 1) : -1;
  };
  return key(a) - key(b);
}

// ---------------------------------------------------------------------------------------------
// The chair: moderation and decisions; Treasury's override

/** Rows of the decision form's tranche schedule. */
const TRANCHE_ROWS = 4;

function mountChair(web: WebApp, deps: Deps) {
  const moderationPage = async (
    c: WebContext,
    p: Principal,
    fields: Fields | null,
    errors: FormErrors,
    status: 200 | 400 | 409 | 422 = 200,
  ) => {
    const v = await caseView(deps, p, c.req.param('id') as string);
    const current = v.board.moderation;
    const values = fields ?? { score: current ? String(current.score) : '', reason: current?.reason ?? '' };
    return render(
      c,
      'panel-moderation',
      {
        title: `Moderate the score for ${v.c.reference}`,
        backLink: `/panel/cases/${v.c.id}`,
        c: v.c,
        board: v.board,
        fields: values,
        ...errors,
      },
      status,
    );
  };
  web.get('/panel/cases/:id/moderation', async (c) => {
    const p = requireUser(c);
    if (p instanceof Response) return p;
    assertChair(p);
    return moderationPage(c, p, null, NO_ERRORS);
  });
  web.post('/panel/cases/:id/moderation', async (c) => {
    const p = requireUser(c);
    if (p instanceof Response) return p;
    const fields = await formFields(c);
    const id = c.req.param('id');
    const r = await tryForm(
      () =>
        actingAsUser(deps, c, (act) => {
          const text = (fields.score ?? '').trim();
          if (!/^\d+(\.\d+)?$/.test(text))
            throw invalid([{ pointer: '/score', detail: 'Enter the moderated score as a number from 0 to 5, like 3.25' }]);
          const body = checkBody(ModerationBody, { score: Number(text), reason: fields.reason ?? '' });
          return moderate(act, id, body.score, body.reason);
        }),
      { names: { '/reason': 'The reason' } },
    );
    if ('failed' in r) return moderationPage(c, p, fields, r.failed, Object.keys(r.failed.errors).length ? 400 : 409);
    return c.redirect(`/panel/cases/${encodeURIComponent(id)}?done=moderated`, 303);
  });

  const decisionPage = async (
    c: WebContext,
    p: Principal,
    fields: Fields | null,
    errors: FormErrors,
    status: 200 | 400 | 409 | 422 = 200,
  ) => {
    const v = await caseView(deps, p, c.req.param('id') as string);
    const values: Fields = fields ?? { amount: penceAsPoundsInput(v.c.requestedPence) };
    const names = await userNames(deps, v.override ? [v.override.grantedBy] : []);
    return render(
      c,
      'panel-decision',
      {
        title: `Decide ${v.c.reference}`,
        backLink: `/panel/cases/${v.c.id}`,
        c: v.c,
        board: v.board,
        appraisal: v.appraisal,
        vfmTag: vfmTag(v.board.vfmBand),
        poorValue: v.board.vfmBand === 'poor',
        override: v.override ? { ...v.override, grantedByName: names.get(v.override.grantedBy) } : null,
        fields: values,
        outcomes: [
          { value: 'approve', text: 'Approve', checked: values.outcome === 'approve' },
          { value: 'reject', text: 'Reject', checked: values.outcome === 'reject' },
          { value: 'defer', text: 'Defer', checked: values.outcome === 'defer' },
        ],
        rows: Array.from({ length: TRANCHE_ROWS }, (_, i) => ({
          i,
          n: i + 1,
          amountId: `tranches-${i}-amountPence`,
          amountName: `tranches-${i}-amount`,
          amountLabel: `Amount of tranche ${i + 1}`,
          dayId: `tranches-${i}-earliestOn`,
          dayName: `tranches-${i}-day`,
          monthName: `tranches-${i}-month`,
          yearName: `tranches-${i}-year`,
          conditionId: `tranches-${i}-condition`,
          conditionLabel: `What unlocks tranche ${i + 1}`,
          amount: values[`tranches-${i}-amount`] ?? '',
          day: values[`tranches-${i}-day`] ?? '',
          month: values[`tranches-${i}-month`] ?? '',
          year: values[`tranches-${i}-year`] ?? '',
          condition: values[`tranches-${i}-condition`] ?? '',
          amountError: errors.errors[`tranches-${i}-amountPence`],
          dateError: errors.errors[`tranches-${i}-earliestOn`],
          conditionError: errors.errors[`tranches-${i}-condition`],
        })),
        ...errors,
      },
      status,
    );
  };
  web.get('/panel/cases/:id/decision', async (c) => {
    const p = requireRole(c, decide.roles);
    if (p instanceof Response) return p;
    return decisionPage(c, p, null, NO_ERRORS);
  });
  web.post('/panel/cases/:id/decision', async (c) => {
    const p = requireUser(c);
    if (p instanceof Response) return p;
    const fields = await formFields(c);
    const id = c.req.param('id');
    const r = await tryForm(
      () =>
        actingAsUser(deps, c, (act) => {
          const { body, errors } = decisionBody(fields);
          let checked: ReturnType<typeof DecisionBody.parse>;
          try {
            checked = checkBody(DecisionBody, body);
          } catch (error) {
            if (!(error instanceof DomainError)) throw error;
            throw invalid(
              inFormOrder([...errors, ...error.errors.filter((e) => !errors.some((m) => m.pointer === e.pointer))], decisionOrder),
            );
          }
          if (errors.length > 0) throw invalid(inFormOrder(errors, decisionOrder));
          return decide(act, id, {
            ...checked,
            amountPence: checked.amountPence === undefined ? undefined : BigInt(checked.amountPence),
            tranches: checked.tranches?.map((t) => ({
              ...t,
              amountPence: t.amountPence === undefined ? undefined : BigInt(t.amountPence),
            })),
          }).catch((error: unknown) => {
            // An award larger than the request is the amount field's problem: shown beside it.
            if (error instanceof DomainError && error.type === 'amount-exceeds-request') {
              throw new DomainError(error.kind, error.type, error.title, error.message, error.extra, [
                { pointer: '/amountPence', detail: error.message },
              ]);
            }
            throw error;
          });
        }),
      { names: decisionFieldName, fieldOf: decisionFieldOf },
    );
    if ('failed' in r) {
      const failed = r.failed;
      return decisionPage(c, p, fields, failed, Object.keys(failed.errors).length ? 400 : 422);
    }
    return c.redirect(`/panel/cases/${encodeURIComponent(id)}?done=decided`, 303);
  });

  const overridePage = async (c: WebContext, p: Principal, fields: Fields, errors: FormErrors, status: 200 | 400 | 409 = 200) => {
    const v = await caseView(deps, p, c.req.param('id') as string);
    return render(
      c,
      'panel-override',
      {
        title: `Value-for-money override for ${v.c.reference}`,
        backLink: `/panel/cases/${v.c.id}`,
        c: v.c,
        appraisal: v.appraisal,
        fields,
        ...errors,
      },
      status,
    );
  };
  web.get('/panel/cases/:id/vfm-override', async (c) => {
    const p = requireRole(c, grantVfmOverride.roles);
    if (p instanceof Response) return p;
    return overridePage(c, p, {}, NO_ERRORS);
  });
  web.post('/panel/cases/:id/vfm-override', async (c) => {
    const p = requireUser(c);
    if (p instanceof Response) return p;
    const fields = await formFields(c);
    const id = c.req.param('id');
    const r = await tryForm(
      () =>
        actingAsUser(deps, c, (act) => {
          const body = checkBody(ReasonBody, { reason: fields.reason ?? '' });
          return grantVfmOverride(act, id, body.reason);
        }),
      { names: { '/reason': 'The reason' } },
    );
    if ('failed' in r) return overridePage(c, p, fields, r.failed, Object.keys(r.failed.errors).length ? 400 : 409);
    return c.redirect(`/panel/cases/${encodeURIComponent(id)}?done=override`, 303);
  });
}

/**
 * The decision form as the API's body: amounts typed in pounds become pence exactly (or a field
 * error), the tranche rows filled in become the schedule, conditions one a line. Only an approval
 * carries an amount, conditions and tranches.
 */
function decisionBody(f: Fields): { body: Record<string, unknown>; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const body: Record<string, unknown> = { reasons: f.reasons ?? '' };
  if (f.outcome) body.outcome = f.outcome;
  else errors.push({ pointer: '/outcome', detail: 'Select whether to approve, reject or defer the case' });
  // Without an outcome the approval's fields are still checked, so every problem shows at once.
  if (f.outcome === 'reject' || f.outcome === 'defer') return { body, errors };
  const pounds = (text: string, pointer: string): number | undefined => {
    const pence = parsePounds(text);
    if (pence === null || !Number.isSafeInteger(Number(pence))) {
      errors.push({ pointer, detail: 'Enter an amount in pounds and pence, like £1,234.56' });
      return undefined;
    }
    return Number(pence);
  };
  if ((f.amount ?? '').trim()) body.amountPence = pounds(f.amount as string, '/amountPence');
  const conditions = (f.conditions ?? '')
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter(Boolean);
  if (conditions.length > 0) body.conditions = conditions;
  const tranches: Record<string, unknown>[] = [];
  for (let i = 0; i < TRANCHE_ROWS; i++) {
    const row = ['amount', 'day', 'month', 'year', 'condition'].map((k) => (f[`tranches-${i}-${k}`] ?? '').trim());
    if (row.every((x) => x === '')) continue;
    const [amount, day, month, year, condition] = row as [string, string, string, string, string];
    const n = tranches.length;
    const date =
      /^\d{1,2}$/.test(day) && /^\d{1,2}$/.test(month) && /^\d{4}$/.test(year)
        ? `${year}-${month.padStart(2, '0')}-${day.padStart(2, '0')}`
        : null;
    if (!date)
      errors.push({
        pointer: `/tranches/${n}/earliestOn`,
        detail: `Enter the earliest date for tranche ${n + 1} as a real date, like 27 3 2027`,
      });
    tranches.push({
      amountPence: amount ? pounds(amount, `/tranches/${n}/amountPence`) : undefined,
      earliestOn: date ?? '',
      condition,
    });
    if (!amount) errors.push({ pointer: `/tranches/${n}/amountPence`, detail: `Enter the amount of tranche ${n + 1}` });
  }
  if (tranches.length > 0) body.tranches = tranches;
  return { body, errors };
}

function decisionFieldName(ptr: string): string | null {
  if (ptr === '/reasons') return 'The reasons';
  if (ptr === '/amountPence') return 'The amount';
  const m = /^\/tranches\/(\d+)\/(earliestOn|condition|amountPence)$/.exec(ptr);
  if (m)
    return {
      earliestOn: `The earliest date of tranche ${Number(m[1]) + 1}`,
      condition: `The condition of tranche ${Number(m[1]) + 1}`,
      amountPence: `The amount of tranche ${Number(m[1]) + 1}`,
    }[m[2] as 'condition'];
  return null;
}

/** The decision form's field ids: the pointer's, except the schedule as a whole, and dates (their day field). */
function decisionFieldOf(ptr: string): string {
  if (ptr === '/amountPence') return 'amount';
  if (ptr === '/tranches' || /^\/tranches\/\d+$/.test(ptr)) return 'tranches-0-amountPence';
  if (/^\/conditions(\/\d+)?$/.test(ptr)) return 'conditions';
  const m = /^\/tranches\/(\d+)\/(earliestOn|condition|amountPence)$/.exec(ptr);
  if (m)
    return m[2] === 'earliestOn'
      ? `tranches-${m[1]}-earliestOn`
      : m[2] === 'amountPence'
        ? `tranches-${m[1]}-amountPence`
        : `tranches-${m[1]}-condition`;
  return fieldIdOf(ptr);
}

// ---------------------------------------------------------------------------------------------
// Tranche approvals

function mountApprovals(web: WebApp, deps: Deps) {
  const approvalsPage = async (c: WebContext, p: Principal, errors: FormErrors, status: 200 | 409 | 422 = 200) => {
    const waiting = await awaitingApproval(lookAs(deps, p));
    return render(
      c,
      'panel-approvals',
      {
        title: 'Tranches waiting for approval',
        notice: noticeOf(c, NOTICES),
        waiting: waiting.map((w) => ({
          ...w,
          needsTwo: w.tranche.approvalsNeeded === 2,
          still: w.tranche.approvalsNeeded - w.countedApprovals,
          formId: `approve-${w.caseId}-${w.tranche.number}`,
        })),
        ...errors,
      },
      status,
    );
  };
  web.get('/approvals', async (c) => {
    const p = requireUser(c);
    if (p instanceof Response) return p;
    return approvalsPage(c, p, NO_ERRORS);
  });
  web.post('/approvals/:caseId/:n', async (c) => {
    const p = requireUser(c);
    if (p instanceof Response) return p;
    const n = TrancheNumber.safeParse(c.req.param('n'));
    if (!n.success) return approvalsPage(c, p, formErrors([{ detail: 'There is no such tranche' }]), 422);
    const r = await tryForm(() => actingAsUser(deps, c, (act) => approveTranche(act, c.req.param('caseId'), n.data)));
    if ('failed' in r) return approvalsPage(c, p, r.failed, 409);
    return c.redirect(`/approvals?done=${r.ok.status === 'released' ? 'released' : 'approved'}`, 303);
  });
}

export const panelPages: PageSection = {
  navigation: [
    {
      href: '/rounds',
      text: 'Funding rounds',
      description: "Review a round's submitted cases, score them and see the ranking",
      descriptionFor: { auditor: "A round's submitted cases, their scores and the ranking" },
      roles: ['panel', 'treasury', 'auditor'],
    },
    {
      href: '/approvals',
      text: 'Tranche approvals',
      description: 'Approve tranches councils have claimed, under the four-eyes rule',
      roles: ['panel', 'treasury'],
    },
  ],
  mount(web, deps) {
    mountRounds(web, deps);
    mountCase(web, deps);
    mountScoring(web, deps);
    mountChair(web, deps);
    mountApprovals(web, deps);
  },
};
