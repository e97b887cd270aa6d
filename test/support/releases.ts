import { expect } from 'vitest';
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
