import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import type { Db } from '../db/database.ts';
import type { Principal } from '../users/users.ts';
import {
  type BuiltDocument,
  buildBusinessCase,
  buildCreditsReport,
  buildDecisionLetter,
  buildFundStatement,
  buildPlaceReport,
  buildRealisedBenefits,
  renderBuilt,
} from './documents.ts';
import type { DocumentService } from './service.ts';

/*
 * `npm run cli -- render ...`: an operator writes documents to a directory. The operator reads
 * as treasury does (everything); the figures come from the same builders the API uses.
 */

export const RENDER_HELP = `  render business-case <case id or reference> [--out DIR]
  render decision-letter <case id or reference> [--out DIR]
  render fund-statement <fy> [--out DIR]
  render realised-benefits <fy> [--out DIR]
  render credits <fy> [--out DIR]       the credits and compliance report of a closed year
  render place-report <place code> <fy> [--out DIR]
  render round <round id> [--out DIR]   every case in the round, with a progress bar`;

const OPERATOR: Principal = { userId: 'operator', name: 'Operator (CLI)', role: 'treasury', organisationCode: null, isChair: false };

async function caseId(db: Db, idOrReference: string): Promise<string> {
  const row = await db
    .selectFrom('cases')
    .select('id')
    .where((eb) => eb.or([eb('id', '=', idOrReference), eb('reference', '=', idOrReference)]))
    .executeTakeFirst();
  return row?.id ?? idOrReference;
}

/** Runs one render command; returns the exit code. Usage errors print the usage and return 2. */
export async function renderCommand(db: Db, documents: DocumentService, argv: string[], now = new Date()): Promise<number> {
  const outAt = argv.indexOf('--out');
  const out = outAt >= 0 ? argv[outAt + 1] : 'out';
  const args = outAt >= 0 ? argv.filter((_a, i) => i !== outAt && i !== outAt + 1) : argv;
  if (!out) return usage();
  const [document, a, b] = args;
  mkdirSync(out, { recursive: true });
  const write = async (built: BuiltDocument) => {
    const pdf = await renderBuilt(documents.renderer, documents.templates, built);
    const path = join(out, built.filename);
    writeFileSync(path, pdf);
    return { path, bytes: pdf.length };
  };
  const one = async (build: () => Promise<BuiltDocument>) => {
    const { path, bytes } = await write(await build());
    console.log(`Wrote ${path} (${Math.round(bytes / 1024)} KB)`);
    return 0;
  };
  switch (document) {
    case 'business-case':
      return a ? one(async () => buildBusinessCase(db, OPERATOR, await caseId(db, a), now)) : usage();
    case 'decision-letter':
      return a ? one(async () => buildDecisionLetter(db, OPERATOR, await caseId(db, a), now)) : usage();
    case 'fund-statement':
      return a ? one(() => buildFundStatement(db, OPERATOR, a, now)) : usage();
    case 'realised-benefits':
      return a ? one(() => buildRealisedBenefits(db, OPERATOR, a, now)) : usage();
    case 'credits':
      return a ? one(() => buildCreditsReport(db, OPERATOR, a, now)) : usage();
    case 'place-report':
      return a && b ? one(() => buildPlaceReport(db, OPERATOR, a, b, now)) : usage();
    case 'round':
      return a ? renderRound(db, a, out, write, now) : usage();
    default:
      return usage();
  }
}

async function renderRound(
  db: Db,
  roundId: string,
  out: string,
  write: (b: BuiltDocument) => Promise<{ path: string; bytes: number }>,
  now: Date,
): Promise<number> {
  const cases = await db
    .selectFrom('cases')
    .select(['id', 'reference'])
    .where('round_id', '=', roundId)
    .where('status', '!=', 'draft')
    .orderBy('reference')
    .execute();
  if (cases.length === 0) {
    console.error(`Round ${roundId} has no submitted cases (or does not exist).`);
    return 1;
  }
  const started = Date.now();
  const bar = new cliProgress.SingleBar(
    { format: 'Rendering {bar} {value}/{total} cases | {reference}', hideCursor: true, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  bar.start(cases.length, 0, { reference: '' });
  const failed: string[] = [];
  let bytes = 0;
  for (const c of cases) {
    bar.update({ reference: c.reference });
    try {
      bytes += (await write(await buildBusinessCase(db, OPERATOR, c.id, now))).bytes;
    } catch (error) {
      failed.push(`${c.reference}: ${(error as Error).message}`);
    }
    bar.increment();
  }
  bar.stop();
  const seconds = (Date.now() - started) / 1000;
  console.log(
    `Rendered ${cases.length - failed.length} of ${cases.length} business cases of round ${roundId} to ${out} in ${seconds.toFixed(1)} s (${Math.round(bytes / 1024)} KB).`,
  );
  for (const f of failed) console.log(`  failed: ${f}`);
  return failed.length ? 1 : 0;
}

function usage(): number {
  console.error(`Usage:\n${RENDER_HELP}`);
  return 2;
}
