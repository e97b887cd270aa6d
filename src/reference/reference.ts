import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Selectable } from 'kysely';
import { z } from 'zod';
import { appendAudit, SYSTEM } from '../audit/audit.ts';
import { followDepartments, lockRegisterForReload } from '../benefits/register.ts';
import { type Db, inTransaction, type Tx } from '../db/database.ts';
import type { OrganisationTable } from '../db/schema.ts';

/**
 * Reference data: organisations, places and themes, loaded from `fixtures/` at start-up.
 * Loading is an upsert, so a corrected fixture corrects the database; nothing is deleted,
 * because users, accounts and cases refer to these codes. Who an organisation is (its name,
 * kind, place and the department its savings land in) is versioned: every new or changed
 * organisation gets a new row in `organisation_versions` and the load is audited with what
 * changed, from what to what.
 */

export const ORGANISATION_KINDS = ['department', 'council', 'partner', 'fund', 'exchequer'] as const;
export type OrganisationKind = (typeof ORGANISATION_KINDS)[number];

const CODE = z.string().regex(/^[A-Z0-9][A-Z0-9-]{0,63}$/);

const OrganisationFixture = z
  .object({
    code: CODE,
    name: z.string().min(1),
    kind: z.enum(ORGANISATION_KINDS),
    placeCode: CODE.optional(),
    departmentCode: CODE.optional(),
    gssCode: z.string().optional(),
  })
  .loose();

const PlaceFixture = z.object({
  code: CODE,
  name: z.string().min(1),
  region: z.string().optional(),
  councilCodes: z.array(CODE).min(1),
  themeCodes: z.array(z.string()),
});

const ThemeFixture = z.object({
  code: z.string().regex(/^[a-z0-9-]+$/),
  name: z.string().min(1),
  description: z.string().optional(),
});

export interface Organisation {
  code: string;
  name: string;
  kind: OrganisationKind;
  placeCode: string | null;
  departmentCode: string | null;
  gssCode: string | null;
  details: Record<string, unknown>;
}

export interface Place {
  code: string;
  name: string;
  region: string | null;
  councilCodes: string[];
  themeCodes: string[];
}

export interface Theme {
  code: string;
  name: string;
  description: string | null;
}

export const FIXTURES_DIR = join(import.meta.dirname, '..', '..', 'fixtures');

function readFixture<T extends z.ZodType>(dir: string, file: string, schema: T): z.infer<T> {
  const parsed = schema.safeParse(JSON.parse(readFileSync(join(dir, file), 'utf8')));
  if (!parsed.success) throw new Error(`fixtures/${file} is not valid: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Reads and cross-checks the reference fixtures: every code a fixture names must exist. */
export function readReferenceFixtures(dir = FIXTURES_DIR) {
  const organisations = readFixture(dir, 'organisations.json', z.array(OrganisationFixture));
  const places = readFixture(dir, 'places.json', z.array(PlaceFixture));
  const themes = readFixture(dir, 'themes.json', z.array(ThemeFixture));
  const orgs = new Map(organisations.map((o) => [o.code, o]));
  const placeCodes = new Set(places.map((p) => p.code));
  const themeCodes = new Set(themes.map((t) => t.code));
  const problems: string[] = [];
  if (orgs.size !== organisations.length) problems.push('organisation codes are not unique');
  for (const o of organisations) {
    if (o.placeCode && !placeCodes.has(o.placeCode)) problems.push(`${o.code}: unknown place ${o.placeCode}`);
    if (o.departmentCode && orgs.get(o.departmentCode)?.kind !== 'department')
      problems.push(`${o.code}: ${o.departmentCode} is not a department`);
  }
  for (const p of places) {
    for (const c of p.councilCodes) {
      const council = orgs.get(c);
      if (council?.kind !== 'council' || council.placeCode !== p.code) problems.push(`${p.code}: ${c} is not a council of this place`);
    }
    for (const t of p.themeCodes) if (!themeCodes.has(t)) problems.push(`${p.code}: unknown theme ${t}`);
  }
  for (const kind of ['fund', 'exchequer'] as const) {
    if (organisations.filter((o) => o.kind === kind).length !== 1) problems.push(`there must be exactly one ${kind}`);
  }
  if (problems.length > 0) throw new Error(`Reference fixtures are inconsistent:\n  ${problems.join('\n  ')}`);
  return { organisations, places, themes };
}

type Identity = { name: string; kind: string; placeCode: string | null; departmentCode: string | null };

const identityOf = (r: { name: string; kind: string; place_code: string | null; department_code: string | null }): Identity => ({
  name: r.name,
  kind: r.kind,
  placeCode: r.place_code,
  departmentCode: r.department_code,
});

/**
 * Loads the reference fixtures (operators: start-up and `cli load-fixtures`). New or changed
 * organisations are versioned and audited in the same transaction (action `organisations.loaded`).
 */
export async function loadReferenceData(
  db: Db,
  dir = FIXTURES_DIR,
  now = new Date(),
): Promise<{ organisations: number; places: number; themes: number }> {
  const { organisations, places, themes } = readReferenceFixtures(dir);
  const at = now.toISOString();
  await inTransaction(db, async (trx) => {
    // Kept register rows follow the organisations' departments: no register write may overlap a reload.
    await lockRegisterForReload(trx);
    for (const t of themes) {
      const row = { code: t.code, name: t.name, description: t.description ?? null };
      await trx
        .insertInto('themes')
        .values(row)
        .onConflict((oc) => oc.column('code').doUpdateSet({ name: row.name, description: row.description }))
        .execute();
    }
    for (const p of places) {
      const row = { code: p.code, name: p.name, region: p.region ?? null, theme_codes: JSON.stringify(p.themeCodes) };
      await trx
        .insertInto('places')
        .values(row)
        .onConflict((oc) => oc.column('code').doUpdateSet({ name: row.name, region: row.region, theme_codes: row.theme_codes }))
        .execute();
    }
    const before = new Map((await trx.selectFrom('organisations').selectAll().execute()).map((o) => [o.code, o]));
    const versions = new Map(
      (
        await trx
          .selectFrom('organisation_versions')
          .select(['code', (eb) => eb.fn.max('version').as('version')])
          .groupBy('code')
          .execute()
      ).map((v) => [v.code, Number(v.version)]),
    );
    const changes: { code: string; version: number; from: Identity | null; to: Identity }[] = [];
    for (const o of organisations) {
      const { code, name, kind, placeCode, departmentCode, gssCode, ...details } = o;
      const row = {
        code,
        name,
        kind,
        place_code: placeCode ?? null,
        department_code: departmentCode ?? null,
        gss_code: gssCode ?? null,
        details: JSON.stringify(details),
      };
      const old = before.get(code);
      const to = identityOf(row);
      const from = old ? identityOf(old) : null;
      if (!from || JSON.stringify(from) !== JSON.stringify(to) || !versions.has(code)) {
        const version = (versions.get(code) ?? 0) + 1;
        await trx
          .insertInto('organisation_versions')
          .values({ code, version, name, kind, place_code: row.place_code, department_code: row.department_code, loaded_at: at })
          .execute();
        changes.push({ code, version, from, to });
      }
      await trx
        .insertInto('organisations')
        .values(row)
        .onConflict((oc) =>
          oc.column('code').doUpdateSet({
            name: row.name,
            kind: row.kind,
            place_code: row.place_code,
            department_code: row.department_code,
            gss_code: row.gss_code,
            details: row.details,
          }),
        )
        .execute();
    }
    // A body now answering to another department: the kept benefits register follows it.
    const moved = changes.flatMap((c) => {
      const to = landsIn({ code: c.code, kind: c.to.kind, department_code: c.to.departmentCode });
      return c.from && landsIn({ code: c.code, kind: c.from.kind, department_code: c.from.departmentCode }) !== to
        ? [{ code: c.code, departmentCode: to }]
        : [];
    });
    if (moved.length > 0) await followDepartments(trx, moved);
    if (changes.length > 0) {
      await appendAudit(
        trx,
        {
          actor: SYSTEM,
          action: 'organisations.loaded',
          subject: 'reference/organisations',
          // A first load lists what it added; a reload, each change from what to what.
          detail: before.size === 0 ? { added: changes.map((c) => c.code) } : { changes },
        },
        now,
      );
    }
  });
  return { organisations: organisations.length, places: places.length, themes: themes.length };
}

export async function listOrganisations(db: Db, filter: { kind?: OrganisationKind; placeCode?: string } = {}): Promise<Organisation[]> {
  let q = db.selectFrom('organisations').selectAll();
  if (filter.kind) q = q.where('kind', '=', filter.kind);
  if (filter.placeCode) q = q.where('place_code', '=', filter.placeCode);
  const rows = await q.orderBy('kind').orderBy('code').execute();
  return rows.map(organisationFromRow);
}

export async function getOrganisation(db: Db, code: string): Promise<Organisation | undefined> {
  const row = await db.selectFrom('organisations').selectAll().where('code', '=', code).executeTakeFirst();
  return row ? organisationFromRow(row) : undefined;
}

function organisationFromRow(r: Selectable<OrganisationTable>): Organisation {
  return {
    code: r.code,
    name: r.name,
    kind: r.kind as OrganisationKind,
    placeCode: r.place_code,
    departmentCode: r.department_code,
    gssCode: r.gss_code,
    details: JSON.parse(r.details) as Record<string, unknown>,
  };
}

export async function listPlaces(db: Db): Promise<Place[]> {
  const [places, councils] = await Promise.all([
    db.selectFrom('places').selectAll().orderBy('code').execute(),
    db.selectFrom('organisations').select(['code', 'place_code']).where('kind', '=', 'council').orderBy('code').execute(),
  ]);
  return places.map((p) => ({
    code: p.code,
    name: p.name,
    region: p.region,
    councilCodes: councils.filter((c) => c.place_code === p.code).map((c) => c.code),
    themeCodes: JSON.parse(p.theme_codes) as string[],
  }));
}

export async function listThemes(db: Db): Promise<Theme[]> {
  const rows = await db.selectFrom('themes').selectAll().orderBy('code').execute();
  return rows.map((t) => ({ code: t.code, name: t.name, description: t.description }));
}

/**
 * Which department's budget an organisation's savings land in: a department's own, the
 * department a partner body answers to; null for councils and the rest. The one place this
 * rule lives (case visibility, the benefits register and who may verify a benefit use it).
 */
export async function departmentOfEach(db: Db | Tx): Promise<Map<string, string | null>> {
  const rows = await db.selectFrom('organisations').select(['code', 'kind', 'department_code']).execute();
  return new Map(rows.map((o) => [o.code, landsIn(o)]));
}

/** The department each of these organisations' savings land in (as `departmentOfEach`); their rows read, not the table. */
export async function departmentOfSome(db: Db | Tx, codes: string[]): Promise<Map<string, string | null>> {
  if (codes.length === 0) return new Map();
  const rows = await db.selectFrom('organisations').select(['code', 'kind', 'department_code']).where('code', 'in', codes).execute();
  return new Map(rows.map((o) => [o.code, landsIn(o)]));
}

/** The department one organisation's savings land in (as `departmentOfEach`), or null; one row read, not the table. */
export async function departmentOfOne(db: Db | Tx, code: string): Promise<string | null> {
  const o = await db.selectFrom('organisations').select(['code', 'kind', 'department_code']).where('code', '=', code).executeTakeFirst();
  return o ? landsIn(o) : null;
}

/** A department's savings land in itself; any other body's in the department it answers to. */
function landsIn(o: { code: string; kind: string; department_code: string | null }): string | null {
  return o.kind === 'department' ? o.code : o.department_code;
}

/** The fund's and the Exchequer's organisation codes (one each, checked when fixtures load). */
export async function singletonCode(db: Db, kind: 'fund' | 'exchequer'): Promise<string> {
  const row = await db.selectFrom('organisations').select('code').where('kind', '=', kind).executeTakeFirstOrThrow();
  return row.code;
}
