import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportBenefit, reviewBenefitReport, reviseForecast } from '../../src/benefits/benefits.ts';
import { createCase, submitCase, updateCase } from '../../src/cases/cases.ts';
import { previewCompliance, readCompliance, runYearCompliance } from '../../src/compliance/compliance.ts';
import { closeFinancialYear, previewYearClose, readIssuance, readYearClose } from '../../src/credits/close.ts';
import { readPosition } from '../../src/credits/position.ts';
import { inTransaction } from '../../src/db/database.ts';
import { recordDisposal, setDisposalTarget } from '../../src/disposals/disposals.ts';
import { readGrantsCsv, readGrantsPackage } from '../../src/exports/grants.ts';
import { readRegisterCsv } from '../../src/exports/register.ts';
import { readFundDashboard } from '../../src/fund/dashboard.ts';
import {
  postContributions,
  readDepartmentTerms,
  readDepartmentTermsOf,
  readFund,
  setDepartmentTerms,
  setUpFinancialYear,
} from '../../src/fund/fund.ts';
import { PROBLEM_TYPES, type ProblemName } from '../../src/http/problems.ts';
import { readableAccounts, readableTransfers } from '../../src/ledger/access.ts';
import { DomainError } from '../../src/lib/errors.ts';
import type { Act, Look, Operation } from '../../src/lib/operation.ts';
import { refuse } from '../../src/lib/refusals.ts';
import {
  acceptBilateral,
  declineBilateral,
  proposeBilateral,
  readBilateral,
  readBilaterals,
  withdrawBilateral,
} from '../../src/market/bilateral.ts';
import { cancelOrder, placeOrder, readOrder, readOrders } from '../../src/market/orders.ts';
import { readMarket, setMarketPrices } from '../../src/market/prices.ts';
import { readTrades } from '../../src/market/trades.ts';
import { decide, declareConflict, grantVfmOverride, moderate, recordScores } from '../../src/panel/panel.ts';
import { approveTranche, claimTranche, clawBack, terminateCase } from '../../src/releases/releases.ts';
import { createRound } from '../../src/rounds/rounds.ts';
import { addUser, approveUserRequest } from '../../src/users/requests.ts';
import { deactivateAccount, issueTokenFor, revokeTokensOf, rotateOwnToken } from '../../src/users/tokens.ts';
import { ROLES, type Role } from '../../src/users/users.ts';
import { checkBooks, readAuditLog, signCheckpoint } from '../../src/verify/report.ts';
import { listVerifications, readVerification, startVerification } from '../../src/verify/verifications.ts';
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
  setUpFinancialYear,
  setDepartmentTerms,
  postContributions,
  createRound,
  closeFinancialYear,
  runYearCompliance,
  previewYearClose,
  previewCompliance,
  setMarketPrices,
  placeOrder,
  cancelOrder,
  proposeBilateral,
  acceptBilateral,
  declineBilateral,
  withdrawBilateral,
  addUser,
  approveUserRequest,
  rotateOwnToken,
  issueTokenFor,
  revokeTokensOf,
  deactivateAccount,
  // Reads: who may read what is the operation's too.
  readableAccounts,
  readableTransfers,
  readDepartmentTerms,
  readDepartmentTermsOf,
  readFund,
  readFundDashboard,
  readYearClose,
  readIssuance,
  readPosition,
  readCompliance,
  readMarket,
  readOrders,
  readOrder,
  readBilaterals,
  readBilateral,
  readTrades,
  checkBooks,
  startVerification,
  readVerification,
  listVerifications,
  signCheckpoint,
  readAuditLog,
  readGrantsPackage,
  readGrantsCsv,
  readRegisterCsv,
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
  setUpFinancialYear: ['treasury'],
  setDepartmentTerms: ['treasury'],
  postContributions: ['treasury'],
  createRound: ['treasury'],
  closeFinancialYear: ['treasury'],
  runYearCompliance: ['treasury'],
  previewYearClose: ['treasury'],
  previewCompliance: ['treasury'],
  setMarketPrices: ['treasury'],
  placeOrder: ['department'],
  cancelOrder: ['department'],
  proposeBilateral: ['department'],
  acceptBilateral: ['department'],
  declineBilateral: ['department'],
  withdrawBilateral: ['department'],
  addUser: ['treasury'],
  approveUserRequest: ['treasury'],
  rotateOwnToken: [...ROLES],
  issueTokenFor: ['treasury'],
  revokeTokensOf: ['treasury'],
  deactivateAccount: ['treasury'],
  readableAccounts: ['treasury', 'auditor', 'department', 'council'],
  readableTransfers: ['treasury', 'auditor', 'department', 'council'],
  readDepartmentTerms: [...ROLES],
  readDepartmentTermsOf: [...ROLES],
  readFund: [...ROLES],
  readFundDashboard: ['treasury', 'auditor'],
  readYearClose: ['treasury', 'auditor', 'panel', 'department'],
  readIssuance: ['treasury', 'auditor', 'panel', 'department'],
  readPosition: ['treasury', 'auditor', 'panel', 'department'],
  readCompliance: ['treasury', 'auditor', 'panel', 'department'],
  readMarket: ['treasury', 'auditor', 'panel', 'department'],
  readOrders: ['treasury', 'auditor', 'department'],
  readOrder: ['treasury', 'auditor', 'department'],
  readBilaterals: ['treasury', 'auditor', 'department'],
  readBilateral: ['treasury', 'auditor', 'department'],
  readTrades: ['treasury', 'auditor', 'department'],
  checkBooks: ['treasury', 'auditor'],
  startVerification: ['treasury', 'auditor'],
  readVerification: ['treasury', 'auditor'],
  listVerifications: ['treasury', 'auditor'],
  signCheckpoint: ['treasury', 'auditor'],
  readAuditLog: ['treasury', 'auditor'],
  readGrantsPackage: [...ROLES],
  readGrantsCsv: [...ROLES],
  readRegisterCsv: [...ROLES],
};

/** The status the API answers each kind of domain error with (src/http/problem.ts). */
const STATUS_OF_KIND = { invalid: 400, forbidden: 403, 'not-found': 404, conflict: 409, unprocessable: 422 } as const;

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
      (OPERATIONS[name] as Operation<Act & Look, unknown[], unknown>)(
        // A state change's context and a read's in one: each operation takes the part it needs.
        { trx, db: trx, principal: principal(role), requestId: null, now: new Date('2026-06-01T09:00:00Z') },
        'no-such-case',
        {},
        {},
      ),
    );

  it.each(Object.keys(OPERATIONS))('%s declares the refusals it can give, each a catalogued one', (name) => {
    const refuses = OPERATIONS[name]?.refuses;
    expect(refuses, `${name} declares no refusals`).toBeInstanceOf(Array);
    expect((refuses ?? []).filter((r) => !Object.hasOwn(PROBLEM_TYPES, r))).toEqual([]);
    // Each is thrown from its catalogue row: the title and status the problem page and OpenAPI show.
    for (const type of refuses ?? []) {
      const error = refuse(PROBLEM_TYPES, type as ProblemName, 'detail');
      expect(error).toMatchObject({ type, title: PROBLEM_TYPES[type as ProblemName].title });
      expect(STATUS_OF_KIND[error.kind], type).toBe(PROBLEM_TYPES[type as ProblemName].status);
    }
  });

  it.each(Object.keys(OPERATIONS))('%s declares its roles', (name) => {
    expect([...(OPERATIONS[name]?.roles ?? [])]).toEqual(EXPECTED[name]);
  });

  for (const name of Object.keys(OPERATIONS)) {
    const refused = ROLES.filter((r) => !EXPECTED[name]?.includes(r));
    // An operation every role may call (rotating your own token, the public terms) refuses no role.
    if (refused.length > 0)
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
      // It goes on to look for what it acts on, which does not exist here (or, for a read, finds nothing).
      expect((error as { type?: string } | null)?.type).not.toBe('forbidden');
    });
  }
});

describe('refusals are thrown from their catalogue', () => {
  const src = join(dirname(fileURLToPath(import.meta.url)), '../../src');
  const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));

  it('names no refusal by a literal type and title outside the catalogues: every one goes through `refuse`', () => {
    const literal = files.filter(
      (f) => !f.startsWith('lib') && /new DomainError\(\s*'[a-z-]+',\s*'[a-z0-9-]+',\s*['`"]/.test(readFileSync(join(src, f), 'utf8')),
    );
    expect(literal).toEqual([]);
  });

  it('throws each type from the catalogue that lists it', () => {
    const thrown = files.flatMap((f) =>
      [...readFileSync(join(src, f), 'utf8').matchAll(/refuse\(\s*([A-Z_]+),\s*'([a-z0-9-]+)'/g)].map((m) => ({
        file: f,
        from: m[1],
        type: m[2],
      })),
    );
    expect(thrown.length).toBeGreaterThan(80);
    for (const { file, from, type } of thrown) {
      const module = from?.replace(/_REFUSALS$/, '').toLowerCase();
      const catalogue = readFileSync(join(src, module ?? '', 'refusals.ts'), 'utf8');
      expect(catalogue, `${file} throws ${type} from ${from}`).toMatch(new RegExp(`^  '?${type}'?: \\{`, 'm'));
    }
  });
});
