import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseDeflatorTable, parseParameterSet } from '../../src/appraisal/engine.ts';
import type { BenefitLine, ConfidenceGrade, CostLine } from '../../src/appraisal/types.ts';

const fixtures = join(import.meta.dirname, '..', '..', 'fixtures', 'appraisal');

export const params = parseParameterSet(JSON.parse(readFileSync(join(fixtures, 'parameter-sets.json'), 'utf8'))[0]);
export const deflators = parseDeflatorTable(JSON.parse(readFileSync(join(fixtures, 'gdp-deflators.json'), 'utf8')));
export const rawParameterSets = (): unknown => JSON.parse(readFileSync(join(fixtures, 'parameter-sets.json'), 'utf8'));
export const rawDeflators = (): unknown => JSON.parse(readFileSync(join(fixtures, 'gdp-deflators.json'), 'utf8'));

/** "2026-27" + offset years. */
export function fy(offset: number, base = 2026): string {
  const start = base + offset;
  return `${start}-${String((start + 1) % 100).padStart(2, '0')}`;
}

export function cost(amountPence: bigint, over: Partial<CostLine> = {}): CostLine {
  return { year: '2026-27', kind: 'revenue', payerCode: 'MHCLG', amountPence, confidenceGrade: 1, ...over };
}

export function benefit(unitValuePence: bigint, over: Partial<BenefitLine> = {}): BenefitLine {
  return {
    outcome: 'Outcome',
    beneficiaryCode: 'DHSC',
    type: 'fiscal',
    cashable: true,
    unitValuePence,
    priceYear: '2026-27',
    volumes: { '2026-27': 1 },
    impactBasisPoints: 10_000,
    deadweightBasisPoints: 0,
    persistenceYears: 1,
    confidenceGrade: 1,
    ...over,
  };
}

/** A fiscal, cashable line of 1p a unit, with no volumes or need: the caller gives how many. */
export function fiscalLine(over: Partial<BenefitLine>): BenefitLine {
  return {
    outcome: 'line',
    beneficiaryCode: 'DHSC',
    type: 'fiscal',
    cashable: true,
    unitValuePence: 1n,
    priceYear: '2026-27',
    impactBasisPoints: 10_000,
    deadweightBasisPoints: 0,
    persistenceYears: 1,
    confidenceGrade: 1,
    ...over,
  };
}

/** Any confidence grade, 1 to 6. */
export const grade = fc.integer({ min: 1, max: 6 }) as fc.Arbitrary<ConfidenceGrade>;
