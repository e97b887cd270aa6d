import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES_DIR } from '../src/reference/reference.ts';
import { demoCase, demoLead, draftCase, submit } from '../test/support/cases.ts';
import { scores, world } from '../test/support/releases.ts';
import { bearer, compareViews, fetchOk, type Server, signInCookie, startServer, type View } from './loopback.ts';

/*
 * The web pages against the JSON API serving the same data, over loopback to a real HTTP server
 * (the app in a process of its own, so the load generator does not share its event loop), on one
 * SQLite database, in the same run:
 *   - a signed-in council's draft case page (its task list and live appraisal, computed afresh
 *     on every request) against GET /api/v1/cases/{id} then GET /api/v1/cases/{id}/appraisal;
 *   - a signed-in panel member's list of a round's submitted cases (appraisal, scoring) against
 *     GET /api/v1/cases?round={id} (the round's cases), and against GET /api/v1/rounds/{id}/ranking
 *     (the round's cases with their scores and value for money).
 * Each is driven by one client (requests back to back) and by four concurrent keep-alive
 * clients, in interleaved rounds of short slices (bench/loopback.ts): views per second and the
 * 95th-percentile latency of each, and the page's ratios to each API, per round.
 */

export async function benchPages(scale: number, rounds: number): Promise<void> {
  const w = await world('sqlite');
  let server: Server | null = null;
  try {
    // The round: every demo case but Bradford's submitted by its lead council and scored by two
    // members; Bradford's is the council's draft, appraised afresh on each view.
    const councilTokens = new Map<string, string>();
    const councilToken = async (code: string) => {
      let token = councilTokens.get(code);
      if (!token) {
        token = await w.t.userToken({ name: `${code} case lead`, role: 'council', organisationCode: code });
        councilTokens.set(code, token);
      }
      return token;
    };
    const files = readdirSync(join(FIXTURES_DIR, 'demo', 'cases')).filter((f) => f.endsWith('.json'));
    let draftId = '';
    let submitted = 0;
    for (const file of files) {
      const token = file.includes('bradford') ? w.tokens.bradford : await councilToken(demoLead(file));
      const draft = await draftCase(w.t, token, demoCase(file, w.roundId));
      if (file.includes('bradford')) {
        draftId = draft.id;
        continue;
      }
      await submit(w.t, token, draft.id);
      submitted++;
      for (const member of [w.tokens.alice, w.tokens.bob]) {
        const r = await w.t.request('POST', `/api/v1/cases/${draft.id}/scores`, { token: member, body: scores(3) });
        if (r.status !== 200) throw new Error(`scores: ${r.status} ${r.text}`);
      }
    }
    const config = w.t.databaseConfig;
    if (config.engine !== 'sqlite') throw new Error('the pages benchmark runs on SQLite');
    server = await startServer(['topslice', config.path]);
    const { base } = server;
    const council = await signInCookie(base, w.tokens.bradford);
    const member = await signInCookie(base, w.tokens.alice);
    const round = encodeURIComponent(w.roundId);

    const caseTargets: View[] = [
      { label: 'page GET /cases/{id}', view: () => fetchOk(`${base}/cases/${draftId}`, council) },
      {
        label: 'API GET /api/v1/cases/{id} + /appraisal',
        view: async () => {
          await fetchOk(`${base}/api/v1/cases/${draftId}`, bearer(w.tokens.bradford));
          await fetchOk(`${base}/api/v1/cases/${draftId}/appraisal`, bearer(w.tokens.bradford));
        },
      },
    ];
    const roundTargets: View[] = [
      { label: 'page GET /rounds/{id}', view: () => fetchOk(`${base}/rounds/${round}`, member) },
      { label: 'API GET /api/v1/cases?round={id}', view: () => fetchOk(`${base}/api/v1/cases?round=${round}`, bearer(w.tokens.alice)) },
      {
        label: 'API GET /api/v1/rounds/{id}/ranking',
        view: () => fetchOk(`${base}/api/v1/rounds/${round}/ranking`, bearer(w.tokens.alice)),
      },
    ];

    const sliceMs = Math.round(500 * scale);
    for (const [part, title, targets] of [
      [
        'pages',
        `pages: a council's draft case page with its live appraisal (${demoCase(files.find((f) => f.includes('bradford')) as string, w.roundId).title})`,
        caseTargets,
      ],
      ['pages', `pages: a panel member's list of the round's ${submitted} submitted cases`, roundTargets],
    ] as const) {
      console.log(`${title}; SQLite, loopback, ${rounds} interleaved rounds of ${sliceMs} ms slices`);
      for (const clients of [1, 4]) await compareViews(part, targets, { server, clients, rounds, sliceMs, aim: 0.5 });
    }
  } finally {
    server?.child.kill('SIGTERM');
    await w.t.destroy();
  }
}
