import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config.ts';
import { prepareDatabase } from '../db/prepare.ts';
import { formatPence } from '../lib/money.ts';
import { FIXTURES_DIR } from '../reference/reference.ts';
import { closeOnSignals, startServer } from '../server.ts';
import { bootstrapTreasury } from '../users/users.ts';
import { playCases } from './cases.ts';
import { playCredits } from './credits.ts';
import { writeDemoDocuments } from './documents.ts';
import { privilegedUser, secondTreasuryToken, useApprover } from './integrity.ts';
import { playReleases } from './releases.ts';

/*
 * npm run demo: a fresh demo database from fixtures/, a year played through the HTTP API as
 * its users would, then the service left running for you to explore.
 */

interface DemoDepartments {
  financialYear: string;
  departments: { code: string; baselinePence: number; topSliceBasisPoints: number; savingsTargetPence: number }[];
}

const DEMO_DB = process.env.DEMO_DATABASE_PATH ?? 'data/demo.db';

async function main(): Promise<void> {
  const config = loadConfig({
    ...process.env,
    DATABASE_PATH: DEMO_DB,
    DATABASE_URL: undefined,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  });
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${DEMO_DB}${suffix}`, { force: true });
  // The demo database's own checkpoints go with it: they were taken of the chain just deleted.
  if (!process.env.AUDIT_CHECKPOINT_PATH) rmSync(config.auditCheckpointPath, { force: true });
  const database = await prepareDatabase(config.database);
  const { token: treasury } = await bootstrapTreasury(database.db, 'Fund administrator (HM Treasury)');
  useApprover(await secondTreasuryToken(database.db));
  await database.close();

  const server = await startServer(config);
  closeOnSignals(server);
  const api = client(server.url);
  const setup = JSON.parse(readFileSync(join(FIXTURES_DIR, 'demo', 'departments-2026-27.json'), 'utf8')) as DemoDepartments;
  const fy = setup.financialYear;

  step(`Treasury sets up financial year ${fy}`);
  await api(treasury, 'POST', '/api/v1/financial-years', { name: fy }, 201);
  for (const d of setup.departments) {
    const { baselinePence, topSliceBasisPoints, savingsTargetPence } = d;
    const r = await api(
      treasury,
      'PUT',
      `/api/v1/financial-years/${fy}/departments/${d.code}`,
      { baselinePence, topSliceBasisPoints, savingsTargetPence },
      201,
    );
    say(
      `${d.code.padEnd(6)} baseline ${formatPence(BigInt(baselinePence)).padStart(20)}  top-slice ${(topSliceBasisPoints / 100).toFixed(2)}% = ${formatPence(BigInt(r.contributionDuePence))}`,
    );
  }

  step('Treasury creates the users who will work the year');
  const users: Record<string, string> = {};
  for (const u of [
    { key: 'chair', name: 'Panel chair', role: 'panel', isChair: true },
    { key: 'panel', name: 'Panel member (DWP secondee)', role: 'panel' },
    { key: 'auditor', name: 'NAO auditor', role: 'auditor' },
    { key: 'dhsc', name: 'DHSC finance team', role: 'department', organisationCode: 'DHSC' },
    { key: 'bradford', name: 'Bradford council, Total Place lead', role: 'council', organisationCode: 'BRADFORD' },
  ]) {
    const { key, ...body } = u;
    users[key] =
      body.role === 'panel' ? await privilegedUser(api, treasury, body) : (await api(treasury, 'POST', '/api/v1/users', body, 201)).token;
    say(`${u.role.padEnd(10)} ${u.name}`);
  }

  step('A council may not post contributions');
  const refused = await api(users.bradford as string, 'POST', `/api/v1/financial-years/${fy}/contributions`, undefined, 403);
  say(`403 ${refused.title}: ${refused.detail}`);

  step("Treasury posts every department's top-slice into the fund");
  const run = await api(treasury, 'POST', `/api/v1/financial-years/${fy}/contributions`, undefined, 201, {
    'idempotency-key': `contributions-${fy}`,
  });
  for (const p of run.posted) say(`${p.departmentCode.padEnd(6)} ${formatPence(BigInt(p.amountPence)).padStart(16)}  (${p.transferId})`);
  const again = await api(treasury, 'POST', `/api/v1/financial-years/${fy}/contributions`, undefined, 200);
  say(`Posted again: ${again.posted.length} new, ${again.alreadyPosted.length} already in the ledger — the fund is unchanged.`);

  step(`The fund for ${fy}`);
  const fund = await api(users.dhsc as string, 'GET', `/api/v1/fund?fy=${fy}`, undefined, 200);
  for (const k of ['contributedPence', 'committedPence', 'releasedPence', 'availablePence', 'balancePence'] as const) {
    say(`${k.replace('Pence', '').padEnd(12)} ${formatPence(BigInt(fund[k])).padStart(16)}`);
  }

  const played = await playCases(api, treasury, fy, new Date(), step, say);
  await playReleases(api, treasury, fy, played, step, say);
  await playCredits(api, treasury, fy, step, say);

  step(`The fund for ${fy} after the round`);
  const after = await api(treasury, 'GET', `/api/v1/fund?fy=${fy}`, undefined, 200);
  for (const k of [
    'contributedPence',
    'committedPence',
    'releasedPence',
    'otherReceiptsPence',
    'availablePence',
    'balancePence',
  ] as const) {
    say(`${k.replace('Pence', '').padEnd(14)} ${formatPence(BigInt(after[k])).padStart(16)}`);
  }

  step('The auditor verifies the ledger and the audit chain');
  const verify = await api(users.auditor as string, 'GET', '/api/v1/ledger/verify', undefined, 200);
  const gbp = verify.ledgers.find((l: { ledger: string }) => l.ledger === 'GBP');
  say(
    `ok: ${verify.ok}; GBP debits ${formatPence(BigInt(gbp.debitsPosted))} = credits ${formatPence(BigInt(gbp.creditsPosted))}; ${verify.accounts.checked} accounts match their transfers; audit chain of ${verify.audit.entries} entries intact`,
  );
  const c = verify.credits.credits;
  say(
    `credits: ${c.issued} issued = ${c.available} available + ${c.reserved} reserved + ${c.surrendered} surrendered (${c.conserved ? 'conserved' : 'NOT conserved'}); reservations match the book: ${verify.credits.reservations.matchBook}`,
  );

  await writeDemoDocuments(server.url, treasury, fy, played, step, say);

  console.log(`
topslice is running at ${server.url}
  Web pages:      ${server.url}/sign-in  (sign in with one of these tokens)
    council (Bradford):  ${users.bradford}
    panel chair:         ${users.chair}
    panel member:        ${users.panel}
    department (DHSC):   ${users.dhsc}
    auditor:             ${users.auditor}
  API reference:  ${server.url}/docs
  OpenAPI:        ${server.url}/openapi.json
  Demo database:  ${DEMO_DB}
Try it:
  curl -H "Authorization: Bearer ${treasury}" ${server.url}/api/v1/fund?fy=${fy}
Stop with Ctrl-C. The treasury token is the last line:
${treasury}`);
}

function step(title: string): void {
  console.log(`\n== ${title}`);
}

function say(line: string): void {
  console.log(`   ${line}`);
}

/** Calls the API over HTTP as a user would, and stops the demo if the answer is not the one expected. */
function client(base: string) {
  return async (
    token: string,
    method: string,
    path: string,
    body: unknown,
    expected: number,
    headers: Record<string, string> = {},
    // biome-ignore lint/suspicious/noExplicitAny: the demo reads response fields by name
  ): Promise<any> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status !== expected) throw new Error(`${method} ${path}: expected ${expected}, got ${res.status}: ${text}`);
    return text ? JSON.parse(text) : null;
  };
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
