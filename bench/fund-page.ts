import { accountIds } from '../src/fund/fund.ts';
import { demoWorld } from '../test/support/demo.ts';
import { bearer, compareViews, fetchOk, type Server, signInCookie, startServer, type View } from './loopback.ts';

/*
 * Treasury's fund dashboard against the JSON routes with the same data, over loopback to the app
 * in its own process, on the demo's year played to its end (contributions, awards, releases, a
 * clawback, year close, trades and compliance with a buy-out), on SQLite:
 *   - page GET /fund/{fy}, signed in as Treasury (the figures, both charts and their tables,
 *     the close and compliance outcome);
 *   - GET /api/v1/fund?fy={fy}, the position the page's figures come from;
 *   - that and GET /api/v1/ledger/transfers?account=<the fund's account>, the transfers the
 *     page's monthly chart and its clawed-back and bought-out figures are read from.
 * One client back to back and four concurrent, in interleaved rounds (bench/loopback.ts).
 */

export async function benchFundPage(scale: number, rounds: number): Promise<void> {
  const w = await demoWorld('sqlite', undefined, { credits: true });
  let server: Server | null = null;
  try {
    const config = w.t.databaseConfig;
    if (config.engine !== 'sqlite') throw new Error('the fund page benchmark runs on SQLite');
    server = await startServer(['topslice', config.path]);
    const { base } = server;
    const treasury = await signInCookie(base, w.t.treasury);
    const auth = bearer(w.t.treasury);
    const fy = w.fy;
    const account = encodeURIComponent(accountIds.fund(fy));
    const transfers = await (await fetch(`${base}/api/v1/ledger/transfers?account=${account}&limit=500`, { headers: auth })).json();
    const targets: View[] = [
      { label: `page GET /fund/${fy}`, view: () => fetchOk(`${base}/fund/${fy}`, treasury) },
      { label: `API GET /api/v1/fund?fy=${fy}`, view: () => fetchOk(`${base}/api/v1/fund?fy=${fy}`, auth) },
      {
        label: 'API GET /api/v1/fund + /ledger/transfers?account=fund',
        view: async () => {
          await fetchOk(`${base}/api/v1/fund?fy=${fy}`, auth);
          await fetchOk(`${base}/api/v1/ledger/transfers?account=${account}&limit=500`, auth);
        },
      },
    ];
    const sliceMs = Math.round(500 * scale);
    console.log(
      `fund page: Treasury's fund dashboard for the demo's ${fy} (${(transfers as { transfers: unknown[] }).transfers.length} transfers on the fund's account), SQLite, loopback, ${rounds} interleaved rounds of ${sliceMs} ms slices`,
    );
    for (const clients of [1, 4]) await compareViews('fund page', targets, { server, clients, rounds, sliceMs, aim: 0.5 });
  } finally {
    server?.child.kill('SIGTERM');
    await w.t.destroy();
  }
}
