import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { SUBMITTED_STATUSES } from '../cases/visibility.ts';
import type { Db } from '../db/database.ts';
import { parseFinancialYear } from '../fund/fund.ts';
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

/** What each document takes, in order; `fy` arguments must name a financial year. */
const ARGUMENTS: Record<string, readonly ('case' | 'fy' | 'place' | 'round')[]> = {
  'business-case': ['case'],
  'decision-letter': ['case'],
  'fund-statement': ['fy'],
  'realised-benefits': ['fy'],
  credits: ['fy'],
  'place-report': ['place', 'fy'],
  round: ['round'],
};

/**
 * Runs one render command; returns the exit code: 0 written, 1 when a document cannot be made
 * or written, 2 for a usage error (named, with the usage). Arguments are checked before the
 * output directory is made or a browser started.
 */
export async function renderCommand(db: Db, documents: DocumentService, argv: string[], now = new Date()): Promise<number> {
  const outAt = argv.indexOf('--out');
  const out = outAt >= 0 ? argv[outAt + 1] : 'out';
  const args = outAt >= 0 ? argv.filter((_a, i) => i !== outAt && i !== outAt + 1) : argv;
  if (!out || out.startsWith('-')) return usage('--out needs a directory.');
  const option = args.find((a) => a.startsWith('-'));
  if (option) return usage(`Unknown option for render: ${option}.`);
  const [document, ...rest] = args;
  if (!document) return usage('Name the document to render.');
  const wanted = Object.hasOwn(ARGUMENTS, document) ? ARGUMENTS[document] : undefined;
  if (!wanted) return usage(`Unknown document: ${document}.`);
  if (rest.length !== wanted.length) {
    return usage(`render ${document} takes ${wanted.map((w) => `<${w}>`).join(' ')}; got ${rest.length ? rest.join(' ') : 'nothing'}.`);
  }
  const badYear = rest.find((value, i) => wanted[i] === 'fy' && !parseFinancialYear(value));
  if (badYear) return usage(`${badYear} is not a financial year: name one as 2026-27.`);
  const made = outputDirectory(out);
  if (made) {
    console.error(made);
    return 1;
  }
  const [a = '', b = ''] = rest;
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
      return one(async () => buildBusinessCase(db, OPERATOR, await caseId(db, a), now));
    case 'decision-letter':
      return one(async () => buildDecisionLetter(db, OPERATOR, await caseId(db, a), now));
    case 'fund-statement':
      return one(() => buildFundStatement(db, OPERATOR, a, now));
    case 'realised-benefits':
      return one(() => buildRealisedBenefits(db, OPERATOR, a, now));
    case 'credits':
      return one(() => buildCreditsReport(db, OPERATOR, a, now));
    case 'place-report':
      return one(() => buildPlaceReport(db, OPERATOR, a, b, now));
    default:
      return renderRound(db, a, out, write, now);
  }
}

/**
 * Makes the output directory if it is missing (its parent must exist: a recursive mkdir can
 * spin forever under /proc), or says in one line why it cannot be used.
 */
function outputDirectory(out: string): string | null {
  try {
    if (existsSync(out)) return statSync(out).isDirectory() ? null : `Cannot write to ${out}: it is not a directory.`;
    mkdirSync(out);
    return null;
  } catch (error) {
    return `Cannot write to ${out}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`;
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
    .where('status', 'in', SUBMITTED_STATUSES)
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

function usage(problem: string): number {
  console.error(`${problem}\nUsage:\n${RENDER_HELP}`);
  return 2;
}
