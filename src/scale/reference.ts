import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Db } from '../db/database.ts';
import { FIXTURES_DIR, loadReferenceData } from '../reference/reference.ts';

/*
 * The reference data of the national-scale data set: the real fixtures (fixtures/), seven more
 * real Whitehall departments so that twenty contribute, and generated places, each led by one
 * generated council, up to about 150 places. The generated ones are marked synthetic in their
 * codes (`SYN-`), their names ("Synthetic …") and their details (`synthetic: true`); they live
 * here, not in fixtures/, and are loaded only into a scale database. England's upper-tier
 * councils could not be sourced with a citation on this machine (no such list in the shared
 * data), so beyond the 13 Total Place pilots and their 30 councils every place is synthetic.
 */

/** How many places the scale data set has, the 13 real ones included. */
export const SCALE_PLACES = 150;

/**
 * Ministerial departments not in fixtures/organisations.json, as GOV.UK lists them under
 * "Ministerial departments" (https://www.gov.uk/government/organisations, read 2026-11-22):
 * with the 13 there, twenty departments contribute to the scale fund.
 */
export const MORE_DEPARTMENTS = [
  { code: 'MOD', name: 'Ministry of Defence' },
  { code: 'FCDO', name: 'Foreign, Commonwealth & Development Office' },
  { code: 'CO', name: 'Cabinet Office' },
  { code: 'AGO', name: "Attorney General's Office" },
  { code: 'NIO', name: 'Northern Ireland Office' },
  { code: 'OSSS', name: 'Office of the Secretary of State for Scotland' },
  { code: 'OSSW', name: 'Office of the Secretary of State for Wales' },
].map((d) => ({
  ...d,
  kind: 'department' as const,
  ministerial: true,
  note: 'Added for the national-scale data set; source: https://www.gov.uk/government/organisations (ministerial departments).',
}));

interface FixturePlace {
  code: string;
  name: string;
  region?: string;
  councilCodes: string[];
  themeCodes: string[];
}

interface FixtureOrganisation {
  code: string;
  kind: string;
  [k: string]: unknown;
}

/** A generated place and its one council, numbered from 1. */
export function syntheticPlace(n: number, themes: string[]): { place: FixturePlace; council: FixtureOrganisation } {
  const number = String(n).padStart(3, '0');
  const placeCode = `SYN-PLACE-${number}`;
  const councilCode = `SYN-COUNCIL-${number}`;
  return {
    place: {
      code: placeCode,
      name: `Synthetic place ${number}`,
      councilCodes: [councilCode],
      themeCodes: [themes[n % themes.length] as string, themes[(n * 7 + 3) % themes.length] as string].filter(
        (t, i, all) => all.indexOf(t) === i,
      ),
    },
    council: {
      code: councilCode,
      name: `Synthetic council ${number}`,
      kind: 'council',
      placeCode,
      synthetic: true,
      note: 'Generated for the national-scale data set; not a real council.',
    },
  };
}

/** The scale data set's fixtures: the real ones plus the departments and synthetic places above. */
export function scaleFixtures(dir = FIXTURES_DIR) {
  const read = <T>(file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as T;
  const organisations = read<FixtureOrganisation[]>('organisations.json');
  const places = read<FixturePlace[]>('places.json');
  const themes = read<{ code: string }[]>('themes.json');
  const known = new Set(organisations.map((o) => o.code));
  const extraDepartments = MORE_DEPARTMENTS.filter((d) => !known.has(d.code));
  const generated = Array.from({ length: Math.max(0, SCALE_PLACES - places.length) }, (_, i) =>
    syntheticPlace(
      i + 1,
      themes.map((t) => t.code),
    ),
  );
  return {
    organisations: [...organisations, ...extraDepartments, ...generated.map((g) => g.council)],
    places: [...places, ...generated.map((g) => g.place)],
    themes,
  };
}

/**
 * Loads the scale reference data through the ordinary loader (versioned and audited as any
 * fixture load), from a temporary directory holding the merged fixtures.
 */
export async function loadScaleReference(db: Db, now: Date): Promise<{ organisations: number; places: number }> {
  const fixtures = scaleFixtures();
  const dir = mkdtempSync(join(tmpdir(), 'topslice-scale-fixtures-'));
  try {
    for (const [file, rows] of Object.entries({
      'organisations.json': fixtures.organisations,
      'places.json': fixtures.places,
      'themes.json': fixtures.themes,
    })) {
      writeFileSync(join(dir, file), JSON.stringify(rows));
    }
    const loaded = await loadReferenceData(db, dir, now);
    return { organisations: loaded.organisations, places: loaded.places };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
