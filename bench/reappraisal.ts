import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appraise } from '../src/appraisal/engine.ts';
import { getDeflatorTable, getParameterSet } from '../src/appraisal/library.ts';
import { SYSTEM } from '../src/audit/audit.ts';
import { appraisalInputOf } from '../src/cases/appraisal.ts';
import { getCase } from '../src/cases/records.ts';
import { inTransaction } from '../src/db/database.ts';
import { prepareDatabase } from '../src/db/prepare.ts';
import { createApp } from '../src/http/app.ts';
import { createLogger } from '../src/lib/log.ts';
import { FIXTURES_DIR } from '../src/reference/reference.ts';
import { bootstrapTreasury, createUser } from '../src/users/users.ts';
import { describe, fmtRange, interleave, measure, ratios, spread } from './measure.ts';

/*
 * Round re-appraisal: GET /api/v1/rounds/{id}/reappraisal over a round of 500 submitted cases (the Bradford
 * demo case with lag and drop-off on its benefit lines, drafted and submitted once through the API, then
 * copied row for row), on SQLite in-process. Beside it, the same 500 appraisals with the engine alone,
 * measured in the same run: the difference is loading, comparing and writing JSON.
 */

const CASES = 500;

export async function benchReappraisal(dir: string, scale: number, rounds: number): Promise<void> {
  const n = Math.max(10, Math.round(CASES * scale));
  const database = await prepareDatabase({ engine: 'sqlite', path: join(dir, 'reappraisal.db') });
  const { token } = await bootstrapTreasury(database.db);
  const app = createApp({ database, log: createLogger('silent'), clock: () => new Date('2026-06-01T09:00:00Z') });
  const council = await inTransaction(database.db, (trx) =>
    createUser(trx, { name: 'Bradford case lead', role: 'council', organisationCode: 'BRADFORD' }, SYSTEM),
  );
  const call = async (method: string, p: string, body?: unknown, bearer = token) => {
    const res = await app.request(p, {
      method,
      // A body-less POST (submit) carries no content type: an empty JSON body is refused as malformed.
      headers:
        body === undefined
          ? { authorization: `Bearer ${bearer}` }
          : { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<Record<string, unknown>>;
  };
  await call('POST', '/api/v1/financial-years', { name: '2026-27' });
  const round = await call('POST', '/api/v1/rounds', {
    financialYear: '2026-27',
    name: 'Bench round',
    envelopePence: 25_000_000_00,
    opensOn: '2026-05-01',
    closesOn: '2026-07-31',
    minMatchFundingBasisPoints: 0,
    themes: [],
    quorum: 1,
  });
  const { demo: _demo, ...body } = JSON.parse(readFileSync(join(FIXTURES_DIR, 'demo', 'cases', '02-bradford-ex-offenders.json'), 'utf8'));
  body.roundId = round.id;
  body.benefits = body.benefits.map((b: Record<string, unknown>, i: number) => ({ ...b, lagYears: i % 2, dropOffBasisPoints: 1_500 }));
  const draft = await call('POST', '/api/v1/cases', body, council.token);
  await call('POST', `/api/v1/cases/${draft.id}/submit`, undefined, council.token);

  // Copies of the submitted case and its stored appraisal.
  const caseRow = await database.db
    .selectFrom('cases')
    .selectAll()
    .where('id', '=', draft.id as string)
    .executeTakeFirstOrThrow();
  const appraisalRow = await database.db
    .selectFrom('appraisals')
    .selectAll()
    .where('case_id', '=', draft.id as string)
    .executeTakeFirstOrThrow();
  for (let start = 1; start < n; start += 100) {
    const ids = Array.from({ length: Math.min(100, n - start) }, (_, k) => start + k);
    await database.db
      .insertInto('cases')
      .values(ids.map((i) => ({ ...caseRow, id: `bench-${i}`, reference: `TP-2026-27-B${String(i).padStart(4, '0')}` })))
      .execute();
    await database.db
      .insertInto('appraisals')
      .values(ids.map((i) => ({ ...appraisalRow, case_id: `bench-${i}` })))
      .execute();
  }

  // Baseline: the engine alone on the same case, n times.
  const c = await getCase(database.db, draft.id as string);
  const params = await getParameterSet(database.db, 'local-partnerships-cba', '2014.1');
  const deflators = await getDeflatorTable(database.db, (round.deflatorEdition as string | null) ?? null);
  const input = appraisalInputOf(c);
  const engineOnly = () => {
    const started = performance.now();
    for (let i = 0; i < n; i++) appraise(input, params, deflators);
    return performance.now() - started;
  };
  const url = `/api/v1/rounds/${round.id}/reappraisal?parameterSet=local-partnerships-cba@2014.1`;
  const whole = async () => {
    const started = performance.now();
    const res = (await call('GET', url)) as { cases: unknown[] };
    if (res.cases.length !== n) throw new Error(`re-appraisal listed ${res.cases.length} cases, not ${n}`);
    return performance.now() - started;
  };
  const [engineTimes, roundTimes] = await interleave([engineOnly, whole], rounds);
  const e = spread(engineTimes as number[]);
  const w = spread(roundTimes as number[]);
  const ratio = measure('reappraisal: whole request / engine alone', 'ratio', ratios(roundTimes as number[], engineTimes as number[]));
  console.log(
    `round re-appraisal: GET /rounds/{id}/reappraisal over ${n} submitted cases (lag and drop-off in use), SQLite, in-process, ${rounds} interleaved rounds`,
  );
  console.log(`  engine alone, ${n} appraisals: ${fmtRange(e)} ms`);
  console.log(`  whole request:                ${fmtRange(w)} ms; ratio whole/engine ${describe(ratio)}`);
  await database.close();
}
