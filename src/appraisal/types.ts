/**
 * The appraisal engine's inputs and outputs: a spend-to-save case as HM Treasury's cost benefit
 * analysis guidance for local partnerships (2014) appraises it, on Green Book discounting.
 * Pure data: no database, no HTTP. Money is bigint pence; rates are basis points.
 */

export type ConfidenceGrade = 1 | 2 | 3 | 4 | 5 | 6;
export type BenefitType = 'fiscal' | 'economic' | 'social';
export type VfmBand = 'poor' | 'low' | 'medium' | 'high' | 'very-high';
export type DiscountScheduleName = 'standard' | 'health';

/** A versioned parameter set, as shipped in fixtures/appraisal/parameter-sets.json. */
export interface ParameterSet {
  name: string;
  version: string;
  /** True while any value could not be verified against its published source. */
  provisional: boolean;
  title: string;
  source: { title: string; publisher: string; year: number; url: string };
  discountSchedules: Record<DiscountScheduleName, DiscountBand[]>;
  confidenceGrades: ConfidenceGradeParameters[];
  vfmBands: VfmBandEdge[];
  notes: string[];
}

export interface DiscountBand {
  fromYear: number;
  toYear: number | null;
  rateBasisPoints: number;
  /** The exact rate as a decimal string ("0.035"); this, not the basis points, is used. */
  rate: string;
}

export interface ConfidenceGradeParameters {
  grade: ConfidenceGrade;
  description: string;
  costUpliftBasisPoints: number;
  benefitHaircutBasisPoints: number;
  verified?: boolean;
}

export interface VfmBandEdge {
  band: VfmBand;
  minBcr: string | null;
  maxBcr: string | null;
  minInclusive: boolean;
  maxInclusive: boolean;
}

/** GDP deflators by financial year ("2026-27"), as exact decimal strings. */
export interface DeflatorTable {
  edition: string;
  baseYear: string;
  index: Record<string, string>;
  /** Forecast years: used, with a warning that the figure is a forecast. */
  forecastIndex?: Record<string, string>;
}

export interface CostLine {
  /** Financial year the cost falls in, e.g. "2026-27". */
  year: string;
  kind: 'revenue' | 'capital';
  payerCode: string;
  amountPence: bigint;
  confidenceGrade: ConfidenceGrade;
}

export interface BenefitLine {
  outcome: string;
  /** Who saves: required for fiscal lines; may be null for economic and social lines (wider society). */
  beneficiaryCode: string | null;
  type: BenefitType;
  /** Wholly cashable (true, = 10,000 basis points) or not (false, = 0); or give `cashableBasisPoints`. */
  cashable?: boolean;
  /** The cashable share of a fiscal line, 0–10,000 basis points (the local CBA model's partial cashability). */
  cashableBasisPoints?: number;
  /** Unit value in pence at `priceYear` prices (already resolved from the Unit Cost Database if picked from it). */
  unitValuePence: bigint;
  /** Financial year of the unit value's prices, "2013-14" (the UCD's "2013/14" is accepted too). */
  priceYear: string;
  /**
   * Cohort engaged in each financial year: a cohort engaged in year t yields in years t + lagYears …
   * t + lagYears + persistenceYears − 1. Give either `volumes`, or `need` with `engagementBasisPoints`.
   */
  volumes?: Record<string, number>;
  /** The eligible cohort in each financial year; engaged volume = need × engagement. */
  need?: Record<string, number>;
  /** The share of the need that takes part, 0–10,000 basis points (only with `need`). */
  engagementBasisPoints?: number;
  impactBasisPoints: number;
  deadweightBasisPoints: number;
  /** Green Book additionality: the share of the benefit displaced from elsewhere (not part of the 2014 local model). Default 0. */
  displacementBasisPoints?: number;
  /** Years between engagement and the first year of benefit. Default 0. */
  lagYears?: number;
  /** Each year after the first year of benefit, a cohort's benefit falls by this share of the year before (compounding). Default 0. */
  dropOffBasisPoints?: number;
  persistenceYears: number;
  confidenceGrade: ConfidenceGrade;
}

export interface AppraisalInput {
  /** Year 0 of discounting and the price base of the appraisal, e.g. "2026-27". */
  baseYear: string;
  discountSchedule?: DiscountScheduleName;
  costs: CostLine[];
  benefits: BenefitLine[];
}

export interface SwitchingValue {
  /** What is varied: "costs" (all cost lines scaled together) or "benefits/3/unitValuePence", "benefits/3/impactBasisPoints". */
  input: string;
  label: string;
  baseValue: number;
  /** The value at which fiscal NPV is zero, as an exact-enough decimal string; null if no value can make it zero. */
  switchingValue: string | null;
  /** switchingValue / baseValue − 1, in basis points (rounded half-even); null with switchingValue. */
  changeBasisPoints: number | null;
}

/** Fiscal NPV and BCR recomputed with one assumption changed (every output rounded from its own exact value). */
export interface SensitivityCase {
  scenario: 'optimism-bias-removed' | 'one-grade-worse' | 'impact-20-percent-lower' | 'lag-one-year-longer';
  label: string;
  fiscalNpvPence: bigint;
  /** Public-value BCR (4 dp); null when PV costs is zero. */
  bcr: number | null;
  vfmBand: VfmBand | null;
}

export interface AppraisalResult {
  pvCostsPence: bigint;
  pvBenefitsPence: { fiscal: bigint; economic: bigint; social: bigint };
  fiscalNpvPence: bigint;
  publicValueNpvPence: bigint;
  /** PV fiscal benefits / PV costs (4 dp); null when PV costs is zero. */
  fiscalRoi: number | null;
  /** Public-value BCR: PV all benefits / PV costs (4 dp); null when PV costs is zero. */
  bcr: number | null;
  /** First year whose cumulative discounted fiscal benefits reach cumulative discounted costs. */
  paybackYear: string | null;
  vfmBand: VfmBand | null;
  whoBenefits: { organisationCode: string | null; pvPence: bigint; cashablePvPence: bigint }[];
  switchingValues: SwitchingValue[];
  /** Per year: discounted costs and fiscal benefits, and their running totals (for the payback chart). */
  years: {
    year: string;
    index: number;
    discountFactor: string;
    pvCostsPence: bigint;
    pvFiscalBenefitsPence: bigint;
    /** Added by the engine: running totals to the end of this year, each rounded independently from the exact sum. */
    cumulativePvCostsPence: bigint;
    cumulativePvFiscalBenefitsPence: bigint;
  }[];
  parameterSet: { name: string; version: string; provisional: boolean };
  warnings: string[];
  /** Fiscal NPV and BCR under four changed assumptions, in this order: optimism bias removed, every line one grade worse, impact 20% lower, lag one year longer. */
  sensitivity: SensitivityCase[];
}
