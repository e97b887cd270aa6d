import { formatPence } from '../lib/money.ts';
import type { PlayedCases } from './cases.ts';
import { privilegedUser } from './integrity.ts';

/*
 * The demo's releases and benefits: councils claim their first tranche with evidence, panel
 * members release it (two of them where it is over the round's threshold), one award has money
 * clawed back, then councils report a year of benefits and the departments that benefit verify
 * them, rejecting one with a reason.
 */

// biome-ignore lint/suspicious/noExplicitAny: the demo reads response fields by name
type Api = (token: string, method: string, path: string, body: unknown, expected: number, headers?: Record<string, string>) => Promise<any>;

export async function playReleases(
  api: Api,
  treasury: string,
  fy: string,
  played: PlayedCases,
  step: (title: string) => void,
  say: (line: string) => void,
): Promise<void> {
  const approved = played.cases.filter((c) => c.demo.expectedOutcome === 'approve');
  // The chair decided every case, so the four-eyes rule leaves its releases to the other members.
  const [chair, ...members] = played.panel as [string, ...string[]];
  members.push(await privilegedUser(api, treasury, { name: 'Panel member (Home Office)', role: 'panel' }));

  step('Councils claim their first tranche; members other than the chair, who decided, release it');
  let shown = false;
  for (const c of approved) {
    await api(
      c.council,
      'POST',
      `/api/v1/cases/${c.id}/tranches/1/claim`,
      { evidence: 'Signed partnership agreement and mobilisation plan, attached to the claim.' },
      200,
    );
    if (!shown) {
      const refused = await api(chair, 'POST', `/api/v1/cases/${c.id}/tranches/1/approve`, {}, 403);
      say(`The chair may not approve: ${refused.detail}`);
      shown = true;
    }
    // biome-ignore lint/suspicious/noExplicitAny: a tranche as the API returns it
    let t: any = null;
    for (const m of members) {
      const scores = await api(m, 'GET', `/api/v1/cases/${c.id}/scores`, undefined, 200);
      const me = await api(m, 'GET', '/api/v1/me', undefined, 200);
      if (scores.conflicts.some((x: { userId: string }) => x.userId === me.id)) continue;
      t = await api(m, 'POST', `/api/v1/cases/${c.id}/tranches/1/approve`, {}, 200);
      if (t.status === 'released') break;
    }
    say(
      `${c.reference} tranche 1: ${formatPence(BigInt(t.releasedPence))} released after ${t.approvals.length} approval${t.approvals.length > 1 ? 's' : ''}`,
    );
  }
  const early = approved[0];
  if (early) {
    const refused = await api(
      early.council,
      'POST',
      `/api/v1/cases/${early.id}/tranches/2/claim`,
      { evidence: 'Claiming the second tranche early.' },
      409,
    );
    say(`${early.reference} tranche 2 claimed early is refused: ${refused.detail}`);
  }

  const clawed = approved.at(-1);
  if (clawed) {
    step('Treasury claws back part of a tranche paid for a service that started late');
    const k = await api(
      treasury,
      'POST',
      `/api/v1/cases/${clawed.id}/clawbacks`,
      {
        kind: 'refund',
        amountPence: 25_000_00,
        reason: 'Mobilisation started a month late; the first month of staffing costs was not incurred.',
      },
      201,
    );
    const award = await api(treasury, 'GET', `/api/v1/cases/${clawed.id}/award`, undefined, 200);
    say(
      `${clawed.reference}: ${formatPence(BigInt(k.amountPence))} refunded to the fund; released ${formatPence(BigInt(award.releasedPence))}, committed ${formatPence(BigInt(award.committedPence))}, award ${formatPence(BigInt(award.awardPence))}`,
    );
  }

  step(`Councils report ${fy} benefits; the departments that benefit verify them`);
  const departments = new Map<string, string>();
  const departmentToken = async (code: string) => {
    let token = departments.get(code);
    if (!token) {
      token = (
        await api(treasury, 'POST', '/api/v1/users', { name: `${code} benefits team`, role: 'department', organisationCode: code }, 201)
      ).token as string;
      departments.set(code, token);
    }
    return token;
  };
  let rejected = false;
  for (const c of approved) {
    const register = await api(c.council, 'GET', `/api/v1/cases/${c.id}/benefits`, undefined, 200);
    const due = register.filter(
      (r: { year: string; appraisedPence: number; departmentCode: string | null }) =>
        r.year === fy && r.appraisedPence > 0 && r.departmentCode,
    );
    for (const [i, row] of due.entries()) {
      // Councils achieve somewhere between 80% and 105% of what was appraised.
      const claimed = Math.round((row.appraisedPence * (80 + ((i * 7) % 26))) / 100);
      const report = await api(
        c.council,
        'POST',
        `/api/v1/cases/${c.id}/benefit-reports`,
        {
          benefitLineIndex: row.benefitLineIndex,
          year: fy,
          claimedPence: claimed,
          evidence: 'Case-level activity data matched to the beneficiary’s records for the year.',
        },
        201,
      );
      const dept = await departmentToken(row.departmentCode);
      if (!rejected) {
        await api(
          dept,
          'POST',
          `/api/v1/benefit-reports/${report.id}/reject`,
          { reason: 'The activity data does not separate this cohort from the existing caseload; resubmit with the matched comparison.' },
          200,
        );
        rejected = true;
        say(
          `${c.reference} line ${row.benefitLineIndex} (${row.outcome.slice(0, 50)}…): ${row.departmentCode} rejects the report, with its reason`,
        );
      } else {
        await api(dept, 'POST', `/api/v1/benefit-reports/${report.id}/verify`, {}, 200);
      }
    }
  }
  const realised = await api(treasury, 'GET', `/api/v1/benefits?fy=${fy}`, undefined, 200);
  const byDept = new Map<string, { forecast: bigint; verified: bigint }>();
  for (const r of realised.rows) {
    const who = r.departmentCode ?? '(wider society)';
    const d = byDept.get(who) ?? { forecast: 0n, verified: 0n };
    d.forecast += BigInt(r.forecastPence);
    d.verified += BigInt(r.verifiedPence);
    byDept.set(who, d);
  }
  for (const [code, d] of [...byDept].sort())
    say(`${code.padEnd(26)} forecast ${formatPence(d.forecast).padStart(15)}  verified ${formatPence(d.verified).padStart(15)}`);
  say(
    `All departments: forecast ${formatPence(BigInt(realised.totals.forecastPence))}, verified ${formatPence(BigInt(realised.totals.verifiedPence))} (cashable ${formatPence(BigInt(realised.cashable.verifiedPence))})`,
  );
}
