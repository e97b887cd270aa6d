import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportBenefit, reviewBenefitReport, reviseForecast } from '../../src/benefits/benefits.ts';
import { createCase, submitCase, updateCase } from '../../src/cases/cases.ts';
import { inTransaction } from '../../src/db/database.ts';
import { recordDisposal, setDisposalTarget } from '../../src/disposals/disposals.ts';
import { DomainError } from '../../src/lib/errors.ts';
import type { Act, Operation } from '../../src/lib/operation.ts';
import { decide, declareConflict, grantVfmOverride, moderate, recordScores } from '../../src/panel/panel.ts';
import { approveTranche, claimTranche, clawBack, terminateCase } from '../../src/releases/releases.ts';
import { ROLES, type Role } from '../../src/users/users.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';

/*
 * Who may call an operation is declared with it and checked by it, not only by the route in
 * front of it: a page or a script calling the domain directly meets the same refusal. Each
 * operation is called here without HTTP, as every role it refuses.
 */

// biome-ignore lint/suspicious/noExplicitAny: a table of operations of different shapes
const OPERATIONS: Record<string, Operation<any, any[], unknown>> = {
  createCase,
  updateCase,
  submitCase,
  declareConflict,
  recordScores,
  moderate,
  grantVfmOverride,
  decide,
  claimTranche,
  approveTranche,
  terminateCase,
  clawBack,
  reviseForecast,
  reportBenefit,
  reviewBenefitReport,
  setDisposalTarget,
  recordDisposal,
};

/** The roles each operation declares: the same lists the API routes document and enforce. */
const EXPECTED: Record<string, Role[]> = {
  createCase: ['council'],
  updateCase: ['council'],
  submitCase: ['council'],
  declareConflict: ['panel'],
  recordScores: ['panel'],
  moderate: ['panel'],
  grantVfmOverride: ['treasury'],
  decide: ['panel'],
  claimTranche: ['council'],
  approveTranche: ['panel', 'treasury'],
  terminateCase: ['treasury', 'panel'],
  clawBack: ['treasury', 'panel'],
  reviseForecast: ['council'],
  reportBenefit: ['council'],
  reviewBenefitReport: ['department', 'treasury'],
  setDisposalTarget: ['treasury'],
  recordDisposal: ['department'],
};

const principal = (role: Role) => ({
  userId: `user-${role}`,
  name: `A ${role} user`,
  role,
  organisationCode: role === 'council' ? 'BRADFORD' : role === 'department' ? 'DHSC' : null,
  isChair: role === 'panel',
});

describe('operations refuse the roles they do not declare, called without HTTP', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await freshDatabase('sqlite');
  });
  afterAll(() => t.destroy());

  const call = (name: string, role: Role) =>
    inTransaction(t.database.db, (trx) =>
      (OPERATIONS[name] as Operation<Act, unknown[], unknown>)(
        { trx, principal: principal(role), requestId: null, now: new Date('2026-06-01T09:00:00Z') },
        'no-such-case',
        {},
        {},
      ),
    );

  it.each(Object.keys(OPERATIONS))('%s declares its roles', (name) => {
    expect([...(OPERATIONS[name]?.roles ?? [])]).toEqual(EXPECTED[name]);
  });

  for (const name of Object.keys(OPERATIONS)) {
    const refused = ROLES.filter((r) => !EXPECTED[name]?.includes(r));
    it.each(refused)(`${name} refuses %s by name`, async (role) => {
      const error = await call(name, role).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(DomainError);
      expect(error).toMatchObject({ kind: 'forbidden', type: 'forbidden' });
      expect((error as Error).message).toBe(`This needs the ${EXPECTED[name]?.join(' or ')} role; you are signed in as ${role}.`);
    });
    it(`${name} lets a role it declares past the role check`, async () => {
      const role = EXPECTED[name]?.[0] as Role;
      const error = await call(name, role).then(
        () => null,
        (e: unknown) => e,
      );
      // It goes on to look for what it acts on, which does not exist here.
      expect(error).not.toMatchObject({ type: 'forbidden' });
    });
  }
});
