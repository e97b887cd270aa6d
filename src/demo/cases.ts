import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatPence } from '../lib/money.ts';
import { FIXTURES_DIR } from '../reference/reference.ts';
import { privilegedUser } from './integrity.ts';

/*
 * The demo's case journey: treasury opens a round, eight councils draft and submit the cases
 * in fixtures/demo/cases/, the panel declares a conflict, scores, ranks and decides, all
 * through the HTTP API.
 */

// biome-ignore lint/suspicious/noExplicitAny: the demo reads response fields by name
type Api = (token: string, method: string, path: string, body: unknown, expected: number, headers?: Record<string, string>) => Promise<any>;

export interface DemoCase {
  file: string;
  body: Record<string, unknown>;
  demo: { lead: string; expectedOutcome: 'approve' | 'reject' | 'defer'; note: string };
}

const CASES_DIR = join(FIXTURES_DIR, 'demo', 'cases');

export function demoCases(): DemoCase[] {
  return readdirSync(CASES_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const { demo, ...body } = JSON.parse(readFileSync(join(CASES_DIR, file), 'utf8')) as Record<string, unknown> & {
        demo: DemoCase['demo'];
      };
      return { file, body, demo };
    });
}

const JUSTIFICATION: Record<string, string> = {
  'strategic-fit': 'Fits the Total Place theme and shifts spend from crisis response to prevention.',
  'value-for-money': 'Scored against the appraisal: BCR and band as reported, with the switching values checked.',
  evidence: 'Evidence grades and comparison groups weighed as set out in the economic case.',
  deliverability: 'Governance, milestones and the commercial route judged from the management case.',
  partnership: 'Partners named, match funding committed and benefits shared across bodies.',
};

/** A member's plausible scores for a case the panel is minded to approve, reject or defer. */
export function scoresFor(outcome: DemoCase['demo']['expectedOutcome'], suggestedVfm: number | null, member: number) {
  const base = outcome === 'approve' ? 4 : outcome === 'defer' ? 3 : 1;
  return Object.entries(JUSTIFICATION).map(([criterion, justification], i) => ({
    criterion,
    score:
      criterion === 'value-for-money' && suggestedVfm !== null ? suggestedVfm : Math.max(0, Math.min(5, base + ((i + member) % 3) - 1)),
    justification,
  }));
}

export interface PlayedCases {
  cases: { id: string; reference: string; title: string; demo: DemoCase['demo']; vfmBand: string; bcr: number | null; council: string }[];
  panel: string[];
}

export async function playCases(
  api: Api,
  treasury: string,
  fy: string,
  today: Date,
  step: (title: string) => void,
  say: (line: string) => void,
): Promise<PlayedCases> {
  const day = (offset: number) => new Date(today.getTime() + offset * 86_400_000).toISOString().slice(0, 10);

  step('Treasury opens a funding round');
  const round = await api(
    treasury,
    'POST',
    '/api/v1/rounds',
    {
      financialYear: fy,
      name: `Prevention Fund ${fy}: round 1`,
      envelopePence: 25_000_000_00,
      opensOn: day(-30),
      closesOn: day(60),
      minMatchFundingBasisPoints: 1000,
      themes: [],
      quorum: 2,
    },
    201,
  );
  say(
    `${round.id}: envelope ${formatPence(BigInt(round.envelopePence))}, open ${round.opensOn} to ${round.closesOn}, quorum ${round.quorum}`,
  );
  say(`Appraisal parameters ${round.parameterSet.name} ${round.parameterSet.version}; GDP deflators ${round.deflatorEdition}`);

  step('Councils draft and submit their business cases');
  const submitted: PlayedCases['cases'] = [];
  for (const c of demoCases()) {
    const council = (
      await api(
        treasury,
        'POST',
        '/api/v1/users',
        { name: `${c.demo.lead} case lead`, role: 'council', organisationCode: c.demo.lead },
        201,
      )
    ).token as string;
    const draft = await api(council, 'POST', '/api/v1/cases', { ...c.body, roundId: round.id }, 201);
    const appraisal = await api(council, 'GET', `/api/v1/cases/${draft.id}/appraisal`, undefined, 200);
    const done = await api(council, 'POST', `/api/v1/cases/${draft.id}/submit`, undefined, 200);
    submitted.push({
      id: draft.id,
      reference: draft.reference,
      title: draft.title,
      demo: c.demo,
      vfmBand: appraisal.vfmBand,
      bcr: appraisal.bcr,
      council,
    });
    say(
      `${draft.reference} ${c.demo.lead.padEnd(15)} asks ${formatPence(BigInt(draft.requestedPence)).padStart(14)}; BCR ${String(appraisal.bcr).padEnd(6)} ${appraisal.vfmBand.padEnd(9)} fiscal NPV ${formatPence(BigInt(appraisal.fiscalNpvPence))}; ${done.case.status}`,
    );
  }

  step('The panel declares conflicts, scores and ranks the round');
  const members = [];
  for (const m of [{ name: 'Panel chair (HM Treasury)', isChair: true }, { name: 'Panel member (DHSC)' }, { name: 'Panel member (MoJ)' }]) {
    members.push(await privilegedUser(api, treasury, { name: m.name, role: 'panel', isChair: m.isChair ?? false }));
  }
  const [chair, , mojMember] = members as [string, string, string];
  const conflicted = submitted.find((s) => s.demo.lead === 'BRADFORD') ?? submitted[0];
  if (conflicted) {
    await api(
      mojMember,
      'POST',
      `/api/v1/cases/${conflicted.id}/conflicts`,
      { reason: 'Seconded from the probation service that partners this case.' },
      201,
    );
    const refused = await api(mojMember, 'POST', `/api/v1/cases/${conflicted.id}/scores`, { scores: scoresFor('approve', null, 0) }, 403);
    say(`MoJ member declares a conflict in ${conflicted.reference} and is refused a score: ${refused.detail}`);
  }
  for (const s of submitted) {
    const board = await api(chair, 'GET', `/api/v1/cases/${s.id}/scores`, undefined, 200);
    const suggested = board.criteria.find((k: { key: string }) => k.key === 'value-for-money')?.suggestedScore ?? null;
    for (const [i, member] of members.entries()) {
      if (member === mojMember && s.id === conflicted?.id) continue;
      await api(member, 'POST', `/api/v1/cases/${s.id}/scores`, { scores: scoresFor(s.demo.expectedOutcome, suggested, i) }, 200);
    }
  }
  const ranked = await api(chair, 'GET', `/api/v1/rounds/${round.id}/ranking`, undefined, 200);
  for (const r of ranked.cases) {
    say(
      `#${r.rank} ${r.reference} score ${String(r.moderatedScore).padEnd(4)} ${r.vfmBand.padEnd(9)} cumulative ${formatPence(BigInt(r.cumulativeRequestedPence)).padStart(15)} ${r.withinEnvelope ? 'within envelope' : 'beyond envelope'}`,
    );
  }

  step('The panel decides');
  for (const s of submitted) {
    if (s.demo.expectedOutcome === 'approve') {
      const d = await api(
        chair,
        'POST',
        `/api/v1/cases/${s.id}/decision`,
        {
          outcome: 'approve',
          reasons: `Ranked within the envelope with ${s.vfmBand} value for money; partners and match funding are committed.`,
          conditions: ['Quarterly benefits reports to the beneficiary departments', 'Independent evaluation against a comparison group'],
          tranches: [
            { basisPoints: 4000, earliestOn: day(0), condition: 'Signed partnership agreement and mobilisation plan' },
            { basisPoints: 3500, earliestOn: day(180), condition: 'Service live with the first cohort engaged' },
            { basisPoints: 2500, earliestOn: day(365), condition: 'First-year outcomes evidenced and verified' },
          ],
        },
        201,
      );
      say(
        `${s.reference} approved: ${formatPence(BigInt(d.amountPence))} in ${d.tranches.length} tranches (${d.tranches.map((t: { amountPence: number }) => formatPence(BigInt(t.amountPence))).join(' + ')})`,
      );
    } else if (s.demo.expectedOutcome === 'reject') {
      if (s.vfmBand === 'poor') {
        const refused = await api(
          chair,
          'POST',
          `/api/v1/cases/${s.id}/decision`,
          { outcome: 'approve', reasons: 'Trying to approve a poor case.' },
          422,
        );
        say(`${s.reference} cannot be approved without a treasury override: ${refused.title}`);
      }
      await api(
        chair,
        'POST',
        `/api/v1/cases/${s.id}/decision`,
        {
          outcome: 'reject',
          reasons: `Poor value for money (BCR ${s.bcr}) on grade-6 evidence; the panel invites a resubmission with a comparison group.`,
        },
        201,
      );
      say(`${s.reference} rejected`);
    } else {
      await api(
        chair,
        'POST',
        `/api/v1/cases/${s.id}/decision`,
        { outcome: 'defer', reasons: 'Medium value for money; deferred to the next meeting for a firmer deliverability plan.' },
        201,
      );
      say(`${s.reference} deferred`);
    }
  }
  return { cases: submitted, panel: members };
}
