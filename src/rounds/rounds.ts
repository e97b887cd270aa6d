import { getDeflatorTable, getParameterSet, latestDeflatorEdition, latestParameterSet } from '../appraisal/library.ts';
import { appendAudit } from '../audit/audit.ts';
import type { Db, Tx } from '../db/database.ts';
import { prepared } from '../db/prepared.ts';
import { getFinancialYear } from '../fund/fund.ts';
import { invalid } from '../lib/errors.ts';
import type { Pence } from '../lib/money.ts';
import { type Act, operation } from '../lib/operation.ts';
import { refuse } from '../lib/refusals.ts';
import { actorOf } from '../users/users.ts';
import { ROUNDS_REFUSALS } from './refusals.ts';

/** A funding round: a budget envelope, dates, themes and the rules cases are scored and appraised by. */

export interface Criterion {
  key: string;
  name: string;
  weight: number;
}

export const VALUE_FOR_MONEY = 'value-for-money';

/** The panel's criteria unless a round says otherwise. */
export const DEFAULT_CRITERIA: Criterion[] = [
  { key: 'strategic-fit', name: 'Strategic fit and prevention', weight: 20 },
  { key: VALUE_FOR_MONEY, name: 'Value for money', weight: 30 },
  { key: 'evidence', name: 'Evidence strength', weight: 15 },
  { key: 'deliverability', name: 'Deliverability', weight: 15 },
  { key: 'partnership', name: 'Partnership', weight: 20 },
];

export interface Round {
  id: string;
  financialYear: string;
  name: string;
  envelopePence: Pence;
  opensOn: string;
  closesOn: string;
  minMatchFundingBasisPoints: number;
  themes: string[];
  quorum: number;
  criteria: Criterion[];
  parameterSet: { name: string; version: string };
  deflatorEdition: string | null;
  /** Four eyes: a tranche needs two approvers when the award's releases so far plus it pass this (src/releases/four-eyes.ts). */
  twoApproverThresholdPence: Pence;
  createdAt: string;
  createdBy: string;
}

export interface NewRound {
  financialYear: string;
  name: string;
  envelopePence: Pence;
  opensOn: string;
  closesOn: string;
  minMatchFundingBasisPoints: number;
  themes: string[];
  quorum: number;
  criteria?: { key: string; name?: string; weight: number }[];
  parameterSet?: { name: string; version: string };
  deflatorEdition?: string | null;
  twoApproverThresholdPence?: Pence;
}

/** Tranches above £1m need a second approver unless a round sets its own threshold. */
export const DEFAULT_TWO_APPROVER_THRESHOLD_PENCE = 1_000_000_00n;

/** Whether a round takes submissions on `date` (YYYY-MM-DD, inclusive at both ends). */
export function roundStatus(round: Pick<Round, 'opensOn' | 'closesOn'>, date: string): 'upcoming' | 'open' | 'closed' {
  if (date < round.opensOn) return 'upcoming';
  if (date > round.closesOn) return 'closed';
  return 'open';
}

/**
 * Treasury opens a funding round in year `input.financialYear`: envelope (pence), dates, themes,
 * match funding, criteria and weights, quorum, the appraisal parameter set, the two-approver
 * threshold (pence). Changes: the round, a `round.created` audit entry. Refusals: `forbidden`;
 * validation-error (400: dates out of order, unknown themes, repeated criteria or weights adding
 * up to nothing, an unknown deflator edition); financial-year-not-found, parameter-set-not-found (404).
 */
export const createRound = operation(
  { roles: ['treasury'], refuses: ['financial-year-not-found', 'parameter-set-not-found'] },
  async ({ trx, principal, requestId, now }: Act, input: NewRound): Promise<Round> => {
    const actor = actorOf(principal);
    await getFinancialYear(trx, input.financialYear);
    const errors = [];
    if (input.closesOn < input.opensOn) errors.push({ pointer: '/closesOn', detail: 'must not be before opensOn' });
    const themes = await trx.selectFrom('themes').select('code').execute();
    const known = new Set(themes.map((t) => t.code));
    input.themes.forEach((t, i) => {
      if (!known.has(t)) errors.push({ pointer: `/themes/${i}`, detail: `there is no theme ${t}` });
    });
    const criteria = input.criteria
      ? input.criteria.map((c) => ({
          key: c.key,
          name: c.name ?? DEFAULT_CRITERIA.find((d) => d.key === c.key)?.name ?? c.key,
          weight: c.weight,
        }))
      : DEFAULT_CRITERIA;
    if (new Set(criteria.map((c) => c.key)).size !== criteria.length)
      errors.push({ pointer: '/criteria', detail: 'criterion keys must be unique' });
    if (criteria.reduce((s, c) => s + c.weight, 0) <= 0)
      errors.push({ pointer: '/criteria', detail: 'the weights must add up to more than zero' });
    if (errors.length > 0) throw invalid(errors);

    const set = input.parameterSet
      ? await getParameterSet(trx, input.parameterSet.name, input.parameterSet.version)
      : await latestParameterSet(trx);
    const deflatorEdition = input.deflatorEdition === undefined ? await latestDeflatorEdition(trx) : input.deflatorEdition;
    if (deflatorEdition !== null && !(await getDeflatorTable(trx, deflatorEdition))) {
      throw invalid([{ pointer: '/deflatorEdition', detail: `there is no GDP deflator edition "${deflatorEdition}"` }]);
    }
    const count = await trx
      .selectFrom('funding_rounds')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('financial_year', '=', input.financialYear)
      .executeTakeFirstOrThrow();
    const round: Round = {
      id: `${input.financialYear}-r${Number(count.n) + 1}`,
      financialYear: input.financialYear,
      name: input.name,
      envelopePence: input.envelopePence,
      opensOn: input.opensOn,
      closesOn: input.closesOn,
      minMatchFundingBasisPoints: input.minMatchFundingBasisPoints,
      themes: input.themes,
      quorum: input.quorum,
      criteria,
      parameterSet: { name: set.name, version: set.version },
      deflatorEdition,
      twoApproverThresholdPence: input.twoApproverThresholdPence ?? DEFAULT_TWO_APPROVER_THRESHOLD_PENCE,
      createdAt: now.toISOString(),
      createdBy: actor.userId ?? 'system',
    };
    await trx
      .insertInto('funding_rounds')
      .values({
        id: round.id,
        financial_year: round.financialYear,
        name: round.name,
        envelope_pence: round.envelopePence,
        opens_on: round.opensOn,
        closes_on: round.closesOn,
        min_match_funding_basis_points: round.minMatchFundingBasisPoints,
        themes: JSON.stringify(round.themes),
        quorum: round.quorum,
        criteria: JSON.stringify(round.criteria),
        parameter_set_name: set.name,
        parameter_set_version: set.version,
        deflator_edition: deflatorEdition,
        two_approver_threshold_pence: round.twoApproverThresholdPence,
        created_at: round.createdAt,
        created_by: round.createdBy,
      })
      .execute();
    await appendAudit(trx, { actor, action: 'round.created', subject: `round/${round.id}`, detail: round, requestId }, now);
    return round;
  },
);

export async function listRounds(db: Db | Tx, financialYear?: string): Promise<Round[]> {
  let q = db.selectFrom('funding_rounds').selectAll();
  if (financialYear) q = q.where('financial_year', '=', financialYear);
  return (await q.orderBy('created_at').orderBy('id').execute()).map(roundFromRow);
}

// Every operation on a case reads its round: the statement is compiled once (src/db/prepared.ts).
const selectRound = prepared((db, id: string) => db.selectFrom('funding_rounds').selectAll().where('id', '=', id));

export async function getRound(db: Db | Tx, id: string): Promise<Round> {
  const [row] = (await selectRound(db, id)).rows;
  if (!row) throw refuse(ROUNDS_REFUSALS, 'round-not-found', `There is no funding round ${id}.`);
  return roundFromRow(row);
}

function roundFromRow(r: {
  id: string;
  financial_year: string;
  name: string;
  envelope_pence: bigint | number;
  opens_on: string;
  closes_on: string;
  min_match_funding_basis_points: bigint | number;
  themes: string;
  quorum: bigint | number;
  criteria: string;
  parameter_set_name: string;
  parameter_set_version: string;
  deflator_edition: string | null;
  two_approver_threshold_pence: bigint | number;
  created_at: string;
  created_by: string;
}): Round {
  return {
    id: r.id,
    financialYear: r.financial_year,
    name: r.name,
    envelopePence: BigInt(r.envelope_pence),
    opensOn: r.opens_on,
    closesOn: r.closes_on,
    minMatchFundingBasisPoints: Number(r.min_match_funding_basis_points),
    themes: JSON.parse(r.themes) as string[],
    quorum: Number(r.quorum),
    criteria: JSON.parse(r.criteria) as Criterion[],
    parameterSet: { name: r.parameter_set_name, version: r.parameter_set_version },
    deflatorEdition: r.deflator_edition,
    twoApproverThresholdPence: BigInt(r.two_approver_threshold_pence),
    createdAt: r.created_at,
    createdBy: r.created_by,
  };
}
