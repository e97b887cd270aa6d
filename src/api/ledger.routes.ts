import { z } from '@hono/zod-openapi';
import type { Deps } from '../http/context.ts';
import { apiRoute, createRouter, jsonBody, jsonContent } from '../http/router.ts';
import { readableAccounts, readableTransfers } from '../ledger/access.ts';
import { countersJson, UNIT_OF } from '../ledger/report.ts';
import { type Account, LEDGERS, postedBalance, type Transfer } from '../ledger/types.ts';
import { penceToJson } from '../lib/money.ts';
import { checkBooks, readAuditLog, signCheckpoint } from '../verify/report.ts';
import { CaseKey, FinancialYearName, Limit, OrganisationCode, PageCursor } from './schemas.ts';

const Amount = z.int().openapi({ description: "In the ledger's unit, stated in `unit`: pence on GBP, whole credits on CREDIT." });
const Unit = z
  .enum(['pence', 'credits'])
  .openapi({ description: 'The unit of every amount here: pence on the GBP ledger, whole credits on CREDIT.' });
const CountersSchema = z.object({ debitsPending: Amount, debitsPosted: Amount, creditsPending: Amount, creditsPosted: Amount });

const AccountSchema = CountersSchema.extend({
  id: z.string().openapi({ example: 'GBP/2026-27/fund' }),
  ledger: z.enum(LEDGERS),
  unit: Unit,
  kind: z.string(),
  organisationCode: z.string().nullable(),
  financialYear: z.string().nullable(),
  debitsMustNotExceedCredits: z.boolean(),
  creditsMustNotExceedDebits: z.boolean(),
  closed: z.boolean(),
  balance: Amount.openapi({ description: 'creditsPosted − debitsPosted' }),
  createdAt: z.string(),
}).openapi('Account');

const TransferSchema = z
  .object({
    seq: z.string().openapi({ description: 'Position in the ledger; use as the `after` cursor.' }),
    id: z.string(),
    debitAccountId: z.string(),
    creditAccountId: z.string(),
    amount: Amount,
    ledger: z.enum(LEDGERS),
    unit: Unit,
    code: z.string(),
    linked: z.boolean(),
    pending: z.boolean(),
    postPendingTransfer: z.boolean(),
    voidPendingTransfer: z.boolean(),
    pendingId: z.string().nullable(),
    timeoutSeconds: z.int(),
    reference: z.string().nullable(),
    createdAt: z.string(),
    debitAccountAfter: CountersSchema.nullable().openapi({
      description: "Null for a department or council reading another organisation's account.",
    }),
    creditAccountAfter: CountersSchema.nullable(),
  })
  .openapi('Transfer');

const CreditsVerificationSchema = z
  .object({
    ok: z.boolean(),
    credits: z.object({ issued: Amount, available: Amount, reserved: Amount, surrendered: Amount, conserved: z.boolean() }),
    reservations: z.object({
      restingOrders: z.int(),
      mismatched: z.array(z.string()),
      reservedCredits: Amount,
      reservedCashPence: Amount,
      matchBook: z.boolean(),
    }),
    negativeBalances: z.array(z.string()),
  })
  .openapi('CreditsVerification', {
    description:
      'Credits conserved (issued = held + reserved + surrendered), reservations equal to what rests on the book, no negative balances.',
  });

/**
 * A sum over many accounts or transfers: each counter fits a JSON safe integer (the ledger
 * refuses past 2^53 − 1), but their sum over a whole ledger need not, so it leaves as a decimal string.
 */
const Total = z.string().openapi({ description: "A whole number in the ledger's unit, as a decimal string.", example: '1250000000' });
const TotalsSchema = z.object({ debitsPending: Total, debitsPosted: Total, creditsPending: Total, creditsPosted: Total });
export const VerificationSchema = z
  .object({
    ok: z.boolean(),
    checkedAt: z.string(),
    asOf: z
      .object({
        auditPosition: z.string().openapi({ description: 'The last audit entry the chain was checked to.' }),
        lastTransferSeq: z.string().openapi({ description: 'The last ledger transfer (its `seq`) there was to check.' }),
      })
      .openapi({ description: 'What was checked: the books as they stood at one moment (one snapshot of the database).' }),
    ledgers: z.array(TotalsSchema.extend({ ledger: z.enum(LEDGERS), unit: Unit, balanced: z.boolean() })),
    accounts: z.object({
      checked: z.int(),
      mismatches: z.array(z.object({ accountId: z.string(), counter: z.string(), stored: Total, fromTransfers: Total })),
    }),
    limits: z.object({ overdrawn: z.array(z.string()) }),
    pendingTransfers: z.object({ checked: z.int(), inconsistent: z.array(z.string()) }),
    credits: CreditsVerificationSchema,
    audit: z.object({
      ok: z.boolean(),
      entries: z.int(),
      headPosition: z.string(),
      checkpointsChecked: z.int().openapi({ description: 'Checkpoints kept outside the database that the chain was checked against.' }),
      problems: z.array(z.object({ position: z.string(), problem: z.string(), detail: z.string() })),
    }),
    binding: z
      .object({
        ok: z.boolean(),
        transfersChecked: z.int(),
        auditedTransfers: z.int(),
        problems: z.array(z.object({ transferId: z.string(), problem: z.string(), positions: z.array(z.string()), detail: z.string() })),
      })
      .openapi({ description: 'Every ledger transfer against the audit entry that recorded it, both ways.' }),
  })
  .openapi('LedgerVerification');

export const CheckpointSchema = z
  .strictObject({
    position: z.string().regex(/^\d{1,18}$/),
    hash: z.string().regex(/^[0-9a-f]{64}$/),
    at: z.string().max(40),
    publicKey: z.string().max(100).openapi({ description: 'Ed25519 public key (base64url) the checkpoint is signed with.' }),
    signature: z.string().max(200).openapi({ description: 'Ed25519 signature (base64url) of `position|hash|at`.' }),
  })
  .openapi('AuditCheckpoint');

const AuditEntrySchema = z
  .object({
    position: z.string(),
    at: z.string(),
    actorUserId: z.string().nullable(),
    actorRole: z.string(),
    action: z.string(),
    subject: z.string(),
    detail: z.unknown(),
    requestId: z.string().nullable(),
    prevHash: z.string(),
    hash: z.string(),
    transfers: z
      .array(z.object({ id: z.string(), debitAccountId: z.string(), creditAccountId: z.string(), amount: z.string() }))
      .openapi({ description: 'The ledger transfers this change caused (amount in the ledger’s unit, as a decimal string).' }),
  })
  .openapi('AuditEntry');

const n = (b: bigint) => penceToJson(b);
const accountJson = (a: Account) => ({ ...a, unit: UNIT_OF[a.ledger], ...countersJson(a), balance: n(postedBalance(a)) });
const transferJson = (t: Transfer) => ({
  ...t,
  unit: UNIT_OF[t.ledger],
  seq: t.seq.toString(),
  amount: n(t.amount),
  debitAccountAfter: countersJson(t.debitAccountAfter),
  creditAccountAfter: countersJson(t.creditAccountAfter),
});

export function ledgerRoutes(deps: Deps) {
  const db = deps.database.db;
  return createRouter()
    .openapi(
      apiRoute({
        method: 'get',
        path: '/ledger/accounts',
        tags: ['Ledger'],
        summary: 'Ledger accounts with their four counters',
        description: 'Department and council users see only their own organisation’s accounts.',
        roles: readableAccounts.roles,
        problems: readableAccounts.refuses,
        request: {
          query: z.object({
            organisation: OrganisationCode.optional(),
            fy: FinancialYearName.optional(),
            ledger: z.enum(LEDGERS).optional(),
            kind: z.string().max(50).optional(),
          }),
        },
        responses: { 200: jsonContent(z.array(AccountSchema), 'The accounts, by id') },
      }),
      async (c) => {
        const q = c.req.valid('query');
        const accounts = await readableAccounts(
          { db, principal: c.get('principal') },
          {
            organisationCode: q.organisation,
            financialYear: q.fy,
            ledger: q.ledger,
            kind: q.kind,
          },
        );
        return c.json(accounts.map(accountJson), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/ledger/transfers',
        tags: ['Ledger'],
        summary: 'Transfers in ledger order, optionally for one account, a page at a time',
        description:
          'Pass the last `seq` you received as `after` to get the next page. Department and council users see only transfers touching their own accounts.',
        roles: readableTransfers.roles,
        problems: readableTransfers.refuses,
        request: {
          query: z.object({
            account: z.string().max(128).optional().openapi({ example: 'GBP/2026-27/fund' }),
            code: z.string().max(50).optional().openapi({ example: 'contribution' }),
            after: PageCursor('seq'),
            limit: Limit,
          }),
        },
        responses: {
          200: jsonContent(
            z.object({ transfers: z.array(TransferSchema), nextAfter: z.string().nullable() }).openapi('TransferPage'),
            'A page of transfers; `nextAfter` is null on the last page',
          ),
        },
      }),
      async (c) => {
        const q = c.req.valid('query');
        const { transfers, ownAccountIds: mine } = await readableTransfers(
          { db, principal: c.get('principal') },
          {
            accountId: q.account,
            code: q.code,
            afterSeq: q.after === undefined ? undefined : BigInt(q.after),
            limit: q.limit,
          },
        );
        const last = transfers.at(-1);
        // A department or council sees its own accounts' balances, not its counterparties'.
        const visible = (t: Transfer) => {
          const j = transferJson(t);
          if (!mine) return j;
          return {
            ...j,
            debitAccountAfter: mine.includes(t.debitAccountId) ? j.debitAccountAfter : null,
            creditAccountAfter: mine.includes(t.creditAccountId) ? j.creditAccountAfter : null,
          };
        };
        return c.json(
          {
            transfers: transfers.map(visible),
            nextAfter: transfers.length === q.limit && last ? last.seq.toString() : null,
          },
          200,
        );
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/ledger/verify',
        tags: ['Ledger'],
        summary: 'Check the ledger and the audit chain from scratch',
        description:
          'Per-ledger totals (Σ debits = Σ credits, posted and pending), every account’s counters against the fold of its transfers, limits, pending transfers resolved at most once, and the hash-chained audit log, all read from one snapshot of the database (`asOf`), so writes made meanwhile neither wait nor show as mismatches. It runs within this request: for a large fund (millions of transfers), start a verification in the background instead (POST /ledger/verifications) and follow it.',
        roles: checkBooks.roles,
        problems: checkBooks.refuses,
        responses: { 200: jsonContent(VerificationSchema, '`ok` is true only if every check passed') },
      }),
      async (c) =>
        c.json(
          await checkBooks({ database: deps.database, principal: c.get('principal') }, deps.clock(), {
            checkpointPath: deps.auditCheckpointPath ?? null,
          }),
          200,
        ),
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/ledger/verify',
        tags: ['Ledger'],
        summary: 'Check the ledger and the audit chain against checkpoints you kept',
        description:
          'The same checks as GET, and also against the checkpoints in the body (ones an auditor took with POST /audit-log/checkpoints and kept): each must carry this service’s signature and still be in the chain. Changes nothing. For a large fund, POST /ledger/verifications runs the same in the background.',
        roles: checkBooks.roles,
        problems: checkBooks.refuses,
        request: { body: jsonBody(z.strictObject({ checkpoints: z.array(CheckpointSchema).max(1000) })) },
        responses: { 200: jsonContent(VerificationSchema, '`ok` is true only if every check passed') },
      }),
      async (c) => {
        const { checkpoints } = c.req.valid('json');
        const options = { checkpointPath: deps.auditCheckpointPath ?? null, checkpoints };
        return c.json(await checkBooks({ database: deps.database, principal: c.get('principal') }, deps.clock(), options), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/audit-log/checkpoints',
        tags: ['Audit'],
        summary: 'Sign a checkpoint of the audit chain’s head, for the auditor to keep',
        description:
          'Signs the head’s position and hash with the service’s checkpoint key (derived from AUDIT_KEY), appends it to the checkpoint file outside the database, and returns it. Keep it: POST /ledger/verify checks the chain still holds it. Changes nothing in the database.',
        roles: signCheckpoint.roles,
        problems: signCheckpoint.refuses,
        responses: { 201: jsonContent(CheckpointSchema, 'The signed checkpoint') },
      }),
      async (c) => c.json(await signCheckpoint({ db, principal: c.get('principal') }, deps.auditCheckpointPath ?? null, deps.clock()), 201),
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/audit-log',
        tags: ['Audit'],
        summary: 'The audit log: every state change, who made it, in what role, when',
        roles: readAuditLog.roles,
        problems: readAuditLog.refuses,
        request: {
          query: z.object({
            subject: z.string().max(200).optional(),
            case: CaseKey.optional().openapi({
              description: "One case's whole history: the case, its tranches and its benefit reports (its id or reference)",
            }),
            action: z.string().max(100).optional(),
            after: PageCursor('position'),
            limit: Limit,
          }),
        },
        responses: {
          200: jsonContent(
            z.object({ entries: z.array(AuditEntrySchema), nextAfter: z.string().nullable() }),
            'A page of entries, oldest first',
          ),
        },
      }),
      async (c) => {
        const q = c.req.valid('query');
        const entries = await readAuditLog(
          { db, principal: c.get('principal') },
          {
            subject: q.subject,
            case: q.case,
            action: q.action,
            afterPosition: q.after === undefined ? undefined : BigInt(q.after),
            limit: q.limit,
          },
        );
        const last = entries.at(-1);
        return c.json(
          {
            entries: entries.map((e) => ({ ...e, position: e.position.toString() })),
            nextAfter: entries.length === q.limit && last ? last.position.toString() : null,
          },
          200,
        );
      },
    );
}
