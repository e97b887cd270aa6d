import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appraise, parseDeflatorTable, parseParameterSet } from '../src/appraisal/engine.ts';
import type { AppraisalInput, BenefitLine, BenefitType, ConfidenceGrade, CostLine } from '../src/appraisal/types.ts';
import { describe, fmtRange, interleave, measure, ratios, roundsFrom, spread } from './measure.ts';

/*
 * Appraisal engine throughput: a ten-year case with 20 lines (6 cost lines, 14 benefit lines of mixed
 * types, grades, price years, persistence, lag and drop-off), appraised over and over on one thread for a few seconds.
 * The parameter set and deflator table are parsed once, as the service does.
 */

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'appraisal');

function fy(offset: number): string {
  const start = 2026 + offset;
  return `${start}-${String((start + 1) % 100).padStart(2, '0')}`;
}

export function benchCase(): AppraisalInput {
  const costs: CostLine[] = Array.from({ length: 6 }, (_, i) => ({
    year: fy(i % 3),
    kind: i % 2 === 0 ? 'revenue' : 'capital',
    payerCode: ['MHCLG', 'DHSC', 'DWP'][i % 3] as string,
    amountPence: BigInt(25_000_00 + i * 7_345_67),
    confidenceGrade: ((i % 6) + 1) as ConfidenceGrade,
  }));
  const types: BenefitType[] = ['fiscal', 'fiscal', 'economic', 'fiscal', 'social', 'fiscal', 'fiscal'];
  const orgs = ['DHSC', 'DWP', 'MOJ', 'HO', 'DFE'];
  const priceYears = ['2013/14', '2026-27', '2020-21', '2014-15'];
  const benefits: BenefitLine[] = Array.from({ length: 14 }, (_, i) => {
    const type = types[i % types.length] as BenefitType;
    const volumes: Record<string, number> = {};
    for (let y = 0; y < 10; y++) if ((y + i) % 3 !== 2) volumes[fy(y)] = 40 + ((i * 17 + y * 5) % 90);
    return {
      outcome: `Outcome ${i}`,
      beneficiaryCode: type === 'fiscal' || i % 2 === 0 ? (orgs[i % orgs.length] as string) : null,
      type,
      cashable: i % 3 !== 0,
      unitValuePence: BigInt(12_345 + i * 9_871),
      priceYear: priceYears[i % priceYears.length] as string,
      volumes,
      impactBasisPoints: 2_500 + (i % 5) * 1_000,
      deadweightBasisPoints: (i % 4) * 750,
      persistenceYears: 1 + (i % 3),
      // Lag and compounding drop-off in use on most lines, as the local CBA model's cases have them.
      lagYears: i % 3,
      dropOffBasisPoints: (i % 4) * 1_000,
      confidenceGrade: ((i % 6) + 1) as ConfidenceGrade,
    };
  });
  return { baseYear: '2026-27', costs, benefits };
}

export async function benchAppraisal(rounds: number): Promise<void> {
  const params = parseParameterSet(JSON.parse(readFileSync(join(fixtures, 'parameter-sets.json'), 'utf8'))[0]);
  const deflators = parseDeflatorTable(JSON.parse(readFileSync(join(fixtures, 'gdp-deflators.json'), 'utf8')));
  const input = benchCase();
  // Baseline in the same run: the same case with neither lag nor drop-off (the inputs lines had before).
  const flat: AppraisalInput = { ...input, benefits: input.benefits.map(({ lagYears: _l, dropOffBasisPoints: _d, ...b }) => b) };
  let sink = 0n;
  // Each run lasts `ms` of wall time; the rate is per second of this process's CPU time (user +
  // system), which is what one core delivers even when other processes share the machine.
  const run = (subject: AppraisalInput, ms: number) => {
    let n = 0;
    const cpu = process.cpuUsage();
    const started = performance.now();
    while (performance.now() < started + ms) {
      for (let i = 0; i < 100; i++) sink ^= appraise(subject, params, deflators).fiscalNpvPence;
      n += 100;
    }
    const wall = performance.now() - started;
    const used = process.cpuUsage(cpu);
    return { cpu: (n / ((used.user + used.system) / 1000)) * 1000, wall: (n / wall) * 1000 };
  };
  const ms = 400;
  const withLag: ReturnType<typeof run>[] = [];
  const flatRuns: ReturnType<typeof run>[] = [];
  await interleave(
    [
      () => {
        withLag.push(run(input, ms));
        return 0;
      },
      () => {
        flatRuns.push(run(flat, ms));
        return 0;
      },
    ],
    rounds,
  );
  // The warm-up round is dropped.
  withLag.shift();
  flatRuns.shift();
  const cpu = measure(
    'appraisal: appraise() per CPU-second, lag and drop-off in use',
    'appraisals/s',
    withLag.map((r) => r.cpu),
    { op: '>=', value: 20_000 },
  );
  const wall = spread(withLag.map((r) => r.wall));
  const flatCpu = spread(flatRuns.map((r) => r.cpu));
  const ratio = measure(
    'appraisal: with lag and drop-off / without',
    'ratio',
    ratios(
      withLag.map((r) => r.cpu),
      flatRuns.map((r) => r.cpu),
    ),
  );
  console.log(
    `appraisal: ten-year case, 20 lines (6 costs, 14 benefits; lag and drop-off in use), one thread, ${rounds} interleaved rounds of ${ms} ms`,
  );
  console.log(
    `  appraise(): ${fmtRange(cpu)}/s per CPU-second, wall clock ${fmtRange(wall)}/s; aim ≥ 20,000/s: ${cpu.met ? 'met' : 'NOT MET'}`,
  );
  console.log(`  same case without lag and drop-off: ${fmtRange(flatCpu)}/s per CPU-second; ratio with/without ${describe(ratio)}`);
  if (sink === -1n) console.log(sink);
}

if (import.meta.url === `file://${process.argv[1]}`) await benchAppraisal(roundsFrom());
