import { expect } from 'vitest';
import { TRANSFER_FLAGS } from '../../src/ledger/types.ts';
import { type Reply, setUpYear, type TestApp, testApp } from './app.ts';
import { type CaseBody, draftCase, openRound, simpleCase, submit } from './cases.ts';
import type { EngineName } from './db.ts';

/*
 * Fixtures for the releases and benefits suites: a year with its contributions posted, an open
 * round, councils, panel members and departments, and a way to take a case from draft to an
 * approved award (scored to quorum by two members, approved by the chair) in one call.
 */

export const CRITERIA = ['strategic-fit', 'value-for-money', 'evidence', 'deliverability', 'partnership'] as const;

export const START = new Date('2026-06-01T09:00:00Z');

/** A full set of scores, all `s`. */
export function scores(s: number) {
  return { scores: CRITERIA.map((criterion) => ({ criterion, score: s, justification: `Scored ${criterion} against the guidance.` })) };
}

/** The distinct JSON Pointers of a problem's field errors, sorted. */
export const pointers = (body: { errors?: { pointer?: string }[] }) => [...new Set((body.errors ?? []).map((e) => e.pointer))].sort();
/** The distinct parameter names of a problem's field errors, sorted. */
export const parameters = (body: { errors?: { parameter?: string }[] }) => [...new Set((body.errors ?? []).map((e) => e.parameter))].sort();

/** A 400 problem+json whose errors point at exactly `expected`. */
export function expectInvalid(r: Reply, expected: string[], label?: string): void {
  expect(r.status, `${label ?? ''} ${r.text}`).toBe(400);
  expect(r.headers.get('content-type'), label).toBe('application/problem+json');
  expect(r.body.type, label).toBe('/problems/validation-error');
  expect(r.body.status, label).toBe(400);
  for (const e of r.body.errors) expect(typeof e.detail, label).toBe('string');
  const where = [...pointers(r.body), ...parameters(r.body)].filter((x) => x !== undefined);
  expect(where, label).toEqual([...expected].sort());
}

/** A problem+json with this status and type. */
export function expectProblem(r: Reply, status: number, type: string, label?: string): void {
  expect(r.status, `${label ?? ''} ${r.text}`).toBe(status);
  expect(r.headers.get('content-type'), label).toBe('application/problem+json');
  expect(r.body.type, label).toBe(`/problems/${type}`);
  expect(typeof r.body.detail, label).toBe('string');
}

export interface TrancheSpec {
  basisPoints?: number;
  amountPence?: number;
  earliestOn?: string;
  condition?: string;
}

export interface World {
  t: TestApp;
  roundId: string;
  tokens: {
    bradford: string;
    bradford2: string;
    lewisham: string;
    chair: string;
    alice: string;
    bob: string;
    dhsc: string;
    dwp: string;
    moj: string;
    ho: string;
    auditor: string;
  };
  ids: Record<string, string>;
}

/**
 * A fresh app with 2026-27 set up and its contributions posted (about £40m in the fund), a
 * quorum-2 round open on the test clock, and users.
 */
export async function world(engine: EngineName, round: Record<string, unknown> = {}): Promise<World> {
  const t = await testApp(engine);
  await setUpYear(t);
  const c = await t.request('POST', '/api/v1/financial-years/2026-27/contributions');
  if (c.status !== 201) throw new Error(`contributions: ${c.status} ${c.text}`);
  const roundId = (await openRound(t, { quorum: 2, ...round })).id as string;
  const tokens = {
    bradford: await t.userToken({ name: 'Bradford case lead', role: 'council', organisationCode: 'BRADFORD' }),
    bradford2: await t.userToken({ name: 'Bradford finance officer', role: 'council', organisationCode: 'BRADFORD' }),
    lewisham: await t.userToken({ name: 'Lewisham case lead', role: 'council', organisationCode: 'LEWISHAM' }),
    chair: await t.userToken({ name: 'Chair', role: 'panel', isChair: true }),
    alice: await t.userToken({ name: 'Alice', role: 'panel' }),
    bob: await t.userToken({ name: 'Bob', role: 'panel' }),
    dhsc: await t.userToken({ name: 'DHSC analyst', role: 'department', organisationCode: 'DHSC' }),
    dwp: await t.userToken({ name: 'DWP analyst', role: 'department', organisationCode: 'DWP' }),
    moj: await t.userToken({ name: 'MoJ analyst', role: 'department', organisationCode: 'MOJ' }),
    ho: await t.userToken({ name: 'Home Office analyst', role: 'department', organisationCode: 'HO' }),
    auditor: await t.userToken({ name: 'Auditor', role: 'auditor' }),
  };
  const ids: Record<string, string> = {};
  for (const [k, token] of Object.entries(tokens)) ids[k] = (await t.request('GET', '/api/v1/me', { token })).body.id;
  ids.treasury = (await t.request('GET', '/api/v1/me')).body.id;
  return { t, roundId, tokens, ids };
}

/** Drafts and submits a case for `token`'s council; returns its id. */
export async function submitted(w: World, body: CaseBody, token = w.tokens.bradford): Promise<string> {
  return (await submit(w.t, token, (await draftCase(w.t, token, body)).id)).case.id as string;
}

/** Alice and Bob score the case in full (quorum 2). */
export async function scoreToQuorum(w: World, id: string): Promise<void> {
  for (const token of [w.tokens.alice, w.tokens.bob]) {
    const r = await w.t.request('POST', `/api/v1/cases/${id}/scores`, { token, body: scores(4) });
    if (r.status !== 200) throw new Error(`scores: ${r.status} ${r.text}`);
  }
}

/** The chair's approval of a case (scored to quorum first), as the raw reply. */
export async function decideApprove(w: World, id: string, opts: { amountPence?: number; tranches?: TrancheSpec[] } = {}): Promise<Reply> {
  await scoreToQuorum(w, id);
  return w.t.request('POST', `/api/v1/cases/${id}/decision`, {
    token: w.tokens.chair,
    body: {
      outcome: 'approve',
      reasons: 'Good value for money and a credible delivery plan.',
      ...(opts.amountPence === undefined ? {} : { amountPence: opts.amountPence }),
      ...(opts.tranches
        ? {
            tranches: opts.tranches.map((x, i) => ({
              ...(x.basisPoints === undefined ? {} : { basisPoints: x.basisPoints }),
              ...(x.amountPence === undefined ? {} : { amountPence: x.amountPence }),
              earliestOn: x.earliestOn ?? '2026-06-01',
              condition: x.condition ?? `Milestone ${i + 1} met`,
            })),
          }
        : {}),
    },
  });
}

/**
 * A Bradford case asking for `leadPence` (match funding a ninth of that, so 10% of costs), drafted,
 * submitted, scored and approved with the tranches given; returns its id.
 */
export async function approvedCase(
  w: World,
  opts: { leadPence?: number; tranches?: TrancheSpec[]; title?: string; body?: CaseBody; token?: string } = {},
): Promise<string> {
  const lead = opts.leadPence ?? 900_000_00;
  const body =
    opts.body ??
    simpleCase(w.roundId, {
      leadPence: lead,
      matchPence: Math.ceil(lead / 9) + 1,
      volume: Math.ceil((lead * 3) / 100_00),
      title: opts.title ?? 'Resettlement pilot',
    });
  const id = await submitted(w, body, opts.token);
  const r = await decideApprove(w, id, { tranches: opts.tranches });
  if (r.status !== 201) throw new Error(`approve: ${r.status} ${r.text}`);
  return id;
}

// biome-ignore lint/suspicious/noExplicitAny: JSON replies
export async function get(w: World, path: string, token?: string): Promise<any> {
  const r = await w.t.request('GET', `/api/v1${path}`, { token });
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${r.text}`);
  return r.body;
}

export const fund = (w: World, fy = '2026-27') => get(w, `/fund?fy=${fy}`);
export const tranches = (w: World, id: string, token?: string) => get(w, `/cases/${id}/tranches`, token);
export const award = (w: World, id: string, token?: string) => get(w, `/cases/${id}/award`, token);

export async function councilAccount(w: World, code = 'BRADFORD', fy = '2026-27') {
  const accounts = await get(w, `/ledger/accounts?organisation=${code}&fy=${fy}`);
  return accounts.find((a: { id: string }) => a.id === `GBP/${fy}/council/${code}`) ?? null;
}

/** Every transfer touching an account, all pages. */
export async function transfersOf(w: World, account: string) {
  const out = [];
  let after: string | null = null;
  do {
    const page = await get(w, `/ledger/transfers?account=${encodeURIComponent(account)}&limit=500${after ? `&after=${after}` : ''}`);
    out.push(...page.transfers);
    after = page.nextAfter;
  } while (after);
  return out;
}

/** A ledger transfer as the API lists it, reduced to what the releases suites check. */
export interface LedgerTransfer {
  id: string;
  debitAccountId: string;
  creditAccountId: string;
  amount: number;
  code: string;
  pending: boolean;
  postPendingTransfer: boolean;
  voidPendingTransfer: boolean;
  pendingId: string | null;
}

/** The `seq` of the ledger's last transfer (0 if none): pass it to `caseLedger` for a case made after it. */
export async function lastSeq(w: World): Promise<number> {
  const r = await w.t.database.db
    .selectFrom('transfers')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .executeTakeFirst();
  return Number(r?.seq ?? 0);
}

/**
 * Every transfer the ledger holds for a case (only those after `afterSeq`, if given), read straight from the database (not through the
 * releases code): ids naming the case (`tranche/`, `release/`, `terminate/`, `clawback/`) and
 * anything resolving one of its tranche reservations; with the stored state of each reservation.
 */
export async function caseLedger(
  w: World,
  caseId: string,
  afterSeq = 0,
): Promise<{ transfers: LedgerTransfer[]; reservations: Map<string, string> }> {
  const db = w.t.database.db;
  const rows = await db
    .selectFrom('transfers')
    .selectAll()
    .where('seq', '>', BigInt(afterSeq))
    .where((eb) => eb.or([eb('id', 'like', `%/${caseId}/%`), eb('pending_id', 'like', `tranche/${caseId}/%`)]))
    .orderBy('seq')
    .execute();
  const transfers = rows.map((r) => {
    const flags = Number(r.flags);
    return {
      id: r.id,
      debitAccountId: r.debit_account_id,
      creditAccountId: r.credit_account_id,
      amount: Number(r.amount),
      code: r.code,
      pending: (flags & TRANSFER_FLAGS.pending) !== 0,
      postPendingTransfer: (flags & TRANSFER_FLAGS.postPendingTransfer) !== 0,
      voidPendingTransfer: (flags & TRANSFER_FLAGS.voidPendingTransfer) !== 0,
      pendingId: r.pending_id,
    };
  });
  const reserved = transfers.filter((x) => x.pending).map((x) => x.id);
  const pending =
    reserved.length === 0 ? [] : await db.selectFrom('pending_transfers').select(['id', 'status']).where('id', 'in', reserved).execute();
  return { transfers, reservations: new Map(pending.map((p) => [p.id, p.status])) };
}

export interface LedgerTranche {
  number: number;
  amount: number;
  /** What became of the reservation: still `pending`, `posted` (in part or in full) or `voided`. */
  state: 'pending' | 'posted' | 'voided';
  released: number;
  voided: number;
}

/** An award's money as the ledger alone has it. */
export interface LedgerPosition {
  award: number;
  released: number;
  committed: number;
  voided: number;
  refunded: number;
  tranches: LedgerTranche[];
}

/**
 * Works out a case's position from its ledger transfers, checking their shape on the way: one
 * pending `tranche/<case>/<n>` reservation fund → council per tranche, each resolved at most once,
 * by a `release/<case>/<n>` post (the unposted rest is voided) or a void (`release/`, offset in
 * full, or `terminate/`); refunds are posted `clawback/<case>/...` transfers council → fund.
 * `reservations`, when given, is the ledger's own record of each reservation's state.
 */
export function ledgerPosition(
  caseId: string,
  transfers: LedgerTransfer[],
  reservations?: Map<string, string>,
  label = caseId,
  fy = '2026-27',
  council = 'BRADFORD',
): LedgerPosition {
  const fundId = `GBP/${fy}/fund`;
  const councilId = `GBP/${fy}/council/${council}`;
  const reserved = new Map<string, LedgerTransfer>();
  const resolutions = new Map<string, LedgerTransfer[]>();
  let refunded = 0;
  for (const x of transfers) {
    const what = `${label}: ${JSON.stringify(x)}`;
    if (x.id.startsWith(`tranche/${caseId}/`)) {
      expect(x, what).toMatchObject({ pending: true, code: 'commitment', debitAccountId: fundId, creditAccountId: councilId });
      expect(x.amount, what).toBeGreaterThan(0);
      expect(reserved.has(x.id), what).toBe(false);
      reserved.set(x.id, x);
    } else if (x.pendingId !== null) {
      expect(x.pendingId.startsWith(`tranche/${caseId}/`), what).toBe(true);
      expect(x.postPendingTransfer !== x.voidPendingTransfer, what).toBe(true);
      const n = x.pendingId.slice(`tranche/${caseId}/`.length);
      expect(x.postPendingTransfer ? [`release/${caseId}/${n}`] : [`release/${caseId}/${n}`, `terminate/${caseId}/${n}`], what).toContain(
        x.id,
      );
      expect(x, what).toMatchObject({ pending: false, debitAccountId: fundId, creditAccountId: councilId });
      resolutions.set(x.pendingId, [...(resolutions.get(x.pendingId) ?? []), x]);
    } else {
      expect(x.id.startsWith(`clawback/${caseId}/`), `${what} is not a transfer of the case`).toBe(true);
      expect(x, what).toMatchObject({
        pending: false,
        postPendingTransfer: false,
        voidPendingTransfer: false,
        code: 'clawback',
        debitAccountId: councilId,
        creditAccountId: fundId,
      });
      expect(x.amount, what).toBeGreaterThan(0);
      refunded += x.amount;
    }
  }
  for (const pendingId of resolutions.keys())
    expect(reserved.has(pendingId), `${label}: ${pendingId} resolved but never reserved`).toBe(true);
  const tranches = [...reserved.values()].map((p): LedgerTranche => {
    const number = Number(p.id.slice(`tranche/${caseId}/`.length));
    const rs = resolutions.get(p.id) ?? [];
    expect(rs.length, `${label}: ${p.id} resolved ${rs.length} times`).toBeLessThanOrEqual(1);
    const r = rs[0];
    let t: LedgerTranche;
    if (!r) t = { number, amount: p.amount, state: 'pending', released: 0, voided: 0 };
    else if (r.postPendingTransfer) {
      expect(r.amount, `${label}: ${r.id}`).toBeGreaterThan(0);
      expect(r.amount, `${label}: ${r.id}`).toBeLessThanOrEqual(p.amount);
      t = { number, amount: p.amount, state: 'posted', released: r.amount, voided: p.amount - r.amount };
    } else {
      expect(r.amount, `${label}: ${r.id} voids the whole reservation`).toBe(p.amount);
      t = { number, amount: p.amount, state: 'voided', released: 0, voided: p.amount };
    }
    if (reservations) expect(reservations.get(p.id), `${label}: ${p.id}`).toBe(t.state);
    return t;
  });
  if (reservations) expect(reservations.size, `${label}: reservations`).toBe(reserved.size);
  tranches.sort((a, b) => a.number - b.number);
  expect(
    tranches.map((t) => t.number),
    `${label}: tranche numbers`,
  ).toEqual(tranches.map((_, i) => i + 1));
  const sum = (f: (t: LedgerTranche) => number) => tranches.reduce((s, t) => s + f(t), 0);
  return {
    award: sum((t) => t.amount),
    released: sum((t) => t.released),
    committed: sum((t) => (t.state === 'pending' ? t.amount : 0)),
    voided: sum((t) => t.voided),
    refunded,
    tranches,
  };
}

export async function ledgerOk(w: World): Promise<void> {
  const v = await get(w, '/ledger/verify');
  expect(v.ok, JSON.stringify(v)).toBe(true);
}

export const claim = (w: World, id: string, n: number, token?: string, evidence = 'Signed partnership agreement, attached.') =>
  w.t.request('POST', `/api/v1/cases/${id}/tranches/${n}/claim`, { token: token ?? w.tokens.bradford, body: { evidence } });
export const approve = (w: World, id: string, n: number, token: string) =>
  w.t.request('POST', `/api/v1/cases/${id}/tranches/${n}/approve`, { token });
export const terminate = (w: World, id: string, token?: string, reason = 'The project has stopped delivering.') =>
  w.t.request('POST', `/api/v1/cases/${id}/terminate`, { token, body: { reason } });
export const clawback = (w: World, id: string, body: Record<string, unknown>, token?: string) =>
  w.t.request('POST', `/api/v1/cases/${id}/clawbacks`, { token, body: { reason: 'Under-delivery against the plan.', ...body } });

/** Runs `fn` with the clock at `date`, then puts it back at the start. */
export async function at<T>(w: World, date: string, fn: () => Promise<T>): Promise<T> {
  w.t.setNow(new Date(date));
  try {
    return await fn();
  } finally {
    w.t.setNow(START);
  }
}
