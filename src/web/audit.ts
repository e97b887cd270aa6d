import { z } from 'zod';
import { CaseKey, WholeNumberParam } from '../api/schemas.ts';
import type { AuditEntry } from '../audit/audit.ts';
import type { Deps } from '../http/context.ts';
import { zodFieldErrors } from '../http/problem.ts';
import { readableAccounts, readableTransfers } from '../ledger/access.ts';
import { type Account, LEDGERS, postedBalance } from '../ledger/types.ts';
import { DomainError, invalid } from '../lib/errors.ts';
import { formatCredits, formatPence } from '../lib/money.ts';
import { londonDate } from '../lib/templates.ts';
import { userNames } from '../users/users.ts';
import { caseIdOf, checkBooks, readAuditLog, type VerificationReport } from '../verify/report.ts';
import type { VerificationRunner } from '../verify/runner.ts';
import {
  listVerifications,
  readVerification,
  startVerification,
  type Verification,
  type VerificationStatus,
} from '../verify/verifications.ts';
import type { PageSection } from './app.ts';
import { actingAsUser, type FormErrors, formErrors, lookAs, NO_ERRORS, render, requireRole, type WebContext } from './pages.ts';

/*
 * The auditor's pages (Treasury reads them too): the ledger's accounts with their four counters
 * and the transfers between them, filtered and a page at a time; the audit log a page at a time;
 * and the verification of the ledger, the credits and the audit chain with anything wrong said
 * in words. Reading only, but for one form, which starts a check of the books (it changes nothing
 * in them); the reads are the operations the API's ledger routes call, with their role rules.
 */

const PAGE = 50;

const Cursor = z
  .string()
  .regex(/^\d{1,18}$/, { error: 'must be a position from an earlier page' })
  .optional();
const Code = z
  .string()
  .regex(/^[A-Z0-9-]{1,50}$/, { error: 'must be an organisation code, like DHSC' })
  .optional();
const Year = z
  .string()
  .regex(/^\d{4}-\d{2}$/, { error: 'must be a year like 2026-27' })
  .optional();

const AccountsQuery = z.object({
  organisation: Code,
  fy: Year,
  ledger: z.enum(LEDGERS, { error: 'must be GBP or CREDIT' }).optional(),
  kind: z.string().max(50).optional(),
  page: WholeNumberParam(1, 1_000_000, 'must be a page number such as 2').optional().default(1),
});
const Limit = WholeNumberParam(1, 500, 'must be a whole number from 1 to 500').optional().default(PAGE);
const TransfersQuery = z.object({
  account: z.string().max(128).optional(),
  code: z.string().max(50).optional(),
  after: Cursor,
  limit: Limit,
});
const AuditQuery = z.object({
  subject: z.string().max(200).optional(),
  case: CaseKey.optional(),
  action: z.string().max(100).optional(),
  after: Cursor,
  limit: Limit,
});

const FIELD_NAMES: Record<string, string> = {
  organisation: 'Organisation',
  fy: 'Financial year',
  ledger: 'Ledger',
  kind: 'Kind',
  account: 'Account',
  code: 'Code',
  subject: 'Subject',
  case: 'Case',
  action: 'Action',
  after: 'Page',
  page: 'Page',
  limit: 'Page size',
};

/** The query's non-empty filters, checked: the values, or the errors beside the filter fields. */
function filters<T extends z.ZodType>(
  c: WebContext,
  schema: T,
  keys: string[],
): { raw: Record<string, string> } & ({ ok: z.infer<T> } | { failed: FormErrors }) {
  const raw: Record<string, string> = {};
  for (const k of keys) {
    const v = c.req.query(k)?.trim();
    if (v) raw[k] = v;
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { raw, ok: parsed.data };
  const failed = formErrors(zodFieldErrors(parsed.error, 'query'), (ptr) => ptr.replace(/^\//, ''));
  failed.errorList = failed.errorList.map((e) => ({
    ...e,
    text: `${FIELD_NAMES[e.href?.slice(1) ?? ''] ?? 'A filter'} ${e.text.charAt(0).toLowerCase()}${e.text.slice(1)}`,
  }));
  return { raw, failed };
}

const amountIn = (ledger: string, v: bigint) => (ledger === 'CREDIT' ? formatCredits(v) : formatPence(v));

const withQuery = (path: string, q: Record<string, string>) => {
  const s = new URLSearchParams(q).toString();
  return s ? `${path}?${s}` : path;
};

/** What a verification found wrong, one sentence each; empty when every check passed. */
export function verificationProblems(v: VerificationReport): string[] {
  const out: string[] = [];
  for (const l of v.ledgers) {
    if (!l.balanced)
      out.push(
        `The ${l.ledger} ledger does not balance: debits posted ${l.debitsPosted} against credits posted ${l.creditsPosted}, debits pending ${l.debitsPending} against credits pending ${l.creditsPending}.`,
      );
  }
  for (const m of v.accounts.mismatches)
    out.push(`Account ${m.accountId}: its ${m.counter} is stored as ${m.stored} but its transfers add up to ${m.fromTransfers}.`);
  for (const a of v.limits.overdrawn) out.push(`Account ${a} is overdrawn beyond its limit.`);
  for (const t of v.pendingTransfers.inconsistent) out.push(`Pending transfer ${t} was resolved more than once or inconsistently.`);
  const k = v.credits;
  if (!k.credits.conserved)
    out.push(
      `Credits are not conserved: ${k.credits.issued} issued, but ${k.credits.available} held, ${k.credits.reserved} reserved and ${k.credits.surrendered} surrendered.`,
    );
  for (const o of k.reservations.mismatched) out.push(`The reservation for ${o} does not match what rests on the order book.`);
  if (!k.reservations.matchBook && k.reservations.mismatched.length === 0)
    out.push('The reservations do not match what rests on the order book.');
  for (const a of k.negativeBalances) out.push(`Account ${a} has a negative balance.`);
  for (const p of v.audit.problems) out.push(`Audit log entry ${p.position}: ${p.problem} — ${p.detail}`);
  if (!v.audit.ok && v.audit.problems.length === 0) out.push('The audit chain failed its check.');
  for (const b of v.binding.problems) out.push(`Transfer ${b.transferId}: ${b.problem} — ${b.detail}`);
  return out;
}

const READERS = checkBooks.roles;
const RECENT_CHECKS = 10;

const CHECK_STATUS: Record<VerificationStatus, { text: string; colour: string }> = {
  running: { text: 'Running', colour: 'blue' },
  passed: { text: 'Passed', colour: 'green' },
  failed: { text: 'Found problems', colour: 'red' },
  error: { text: 'Did not finish', colour: 'orange' },
};

function runner(deps: Deps): VerificationRunner {
  if (!deps.verifications) throw new Error('the pages need the verification runner createApp makes');
  return deps.verifications;
}

/** What the check page shows of one verification: how far it has got, or what it found. */
function checkModel(v: Verification | null) {
  if (v === null) return { check: null };
  const report = v.report;
  return {
    check: {
      ...v,
      statusTag: CHECK_STATUS[v.status],
      requester: v.requestedBy.name ?? v.requestedBy.userId,
      running: v.status === 'running',
      // The snapshot's extent comes as decimal strings (positions may pass 2^53); the page counts them.
      progress: v.progress && {
        ...v.progress,
        asOf: v.progress.asOf && {
          auditPosition: BigInt(v.progress.asOf.auditPosition),
          lastTransferSeq: BigInt(v.progress.asOf.lastTransferSeq),
        },
      },
      href: `/ledger/verification/${v.id}`,
    },
    v: report,
    ledgers:
      report?.ledgers.map((l) => ({
        ...l,
        debitsPosted: amountIn(l.ledger, BigInt(l.debitsPosted)),
        creditsPosted: amountIn(l.ledger, BigInt(l.creditsPosted)),
        debitsPending: amountIn(l.ledger, BigInt(l.debitsPending)),
        creditsPending: amountIn(l.ledger, BigInt(l.creditsPending)),
      })) ?? [],
    problems: report ? verificationProblems(report) : [],
  };
}

export const auditPages: PageSection = {
  navigation: [
    {
      href: '/ledger',
      text: 'Ledger and audit',
      description: 'The ledger’s accounts and transfers, the audit log, and the check of the books',
      roles: ['treasury', 'auditor'],
    },
  ],
  mount(web, deps) {
    web.get('/ledger', async (c) => {
      const p = requireRole(c, READERS);
      if (p instanceof Response) return p;
      return render(c, 'audit-index', { title: 'Ledger and audit' });
    });

    web.get('/ledger/accounts', async (c) => {
      const p = requireRole(c, READERS);
      if (p instanceof Response) return p;
      const f = filters(c, AccountsQuery, ['organisation', 'fy', 'ledger', 'kind', 'page']);
      const model = {
        title: 'Ledger accounts',
        backLink: '/ledger',
        values: f.raw,
        ledgers: [
          { value: '', text: 'Both ledgers', selected: !f.raw.ledger },
          ...LEDGERS.map((l) => ({ value: l, text: l, selected: f.raw.ledger === l })),
        ],
      };
      if ('failed' in f) return render(c, 'audit-accounts', { ...model, ...f.failed, accounts: [] }, 400);
      const q = f.ok;
      const accounts = await readableAccounts(lookAs(deps, p), {
        organisationCode: q.organisation,
        financialYear: q.fy,
        ledger: q.ledger,
        kind: q.kind,
      });
      const n = q.page;
      const shown = accounts.slice((n - 1) * PAGE, n * PAGE);
      return render(c, 'audit-accounts', {
        ...model,
        ...NO_ERRORS,
        count: accounts.length,
        accounts: shown.map((a: Account) => ({
          ...a,
          debitsPending: amountIn(a.ledger, a.debitsPending),
          debitsPosted: amountIn(a.ledger, a.debitsPosted),
          creditsPending: amountIn(a.ledger, a.creditsPending),
          creditsPosted: amountIn(a.ledger, a.creditsPosted),
          balance: amountIn(a.ledger, postedBalance(a)),
          transfersHref: withQuery('/ledger/transfers', { account: a.id }),
        })),
        nextHref: accounts.length > n * PAGE ? withQuery('/ledger/accounts', { ...f.raw, page: String(n + 1) }) : null,
        prevHref: n > 1 ? withQuery('/ledger/accounts', { ...f.raw, page: String(n - 1) }) : null,
      });
    });

    web.get('/ledger/transfers', async (c) => {
      const p = requireRole(c, READERS);
      if (p instanceof Response) return p;
      const f = filters(c, TransfersQuery, ['account', 'code', 'after', 'limit']);
      const model = { title: 'Ledger transfers', backLink: '/ledger', values: f.raw };
      if ('failed' in f) return render(c, 'audit-transfers', { ...model, ...f.failed, transfers: [] }, 400);
      const q = f.ok;
      const { transfers } = await readableTransfers(lookAs(deps, p), {
        accountId: q.account,
        code: q.code,
        afterSeq: q.after === undefined ? undefined : BigInt(q.after),
        limit: q.limit,
      });
      const last = transfers.at(-1);
      const { after: _after, ...rest } = f.raw;
      return render(c, 'audit-transfers', {
        ...model,
        ...NO_ERRORS,
        transfers: transfers.map((t) => ({
          ...t,
          seq: t.seq.toString(),
          amount: amountIn(t.ledger, t.amount),
          kind: t.pending
            ? 'Pending'
            : t.postPendingTransfer
              ? 'Posts a pending transfer'
              : t.voidPendingTransfer
                ? 'Voids a pending transfer'
                : 'Posted',
        })),
        nextHref: transfers.length === q.limit && last ? withQuery('/ledger/transfers', { ...rest, after: last.seq.toString() }) : null,
        firstHref: q.after ? withQuery('/ledger/transfers', rest) : null,
      });
    });

    web.get('/audit-log', async (c) => {
      const p = requireRole(c, readAuditLog.roles);
      if (p instanceof Response) return p;
      const f = filters(c, AuditQuery, ['subject', 'case', 'action', 'after', 'limit']);
      const model = { title: 'Audit log', backLink: '/ledger', values: f.raw };
      if ('failed' in f) return render(c, 'audit-log', { ...model, ...f.failed, entries: [] }, 400);
      const q = f.ok;
      let entries: AuditEntry[];
      // One case's history says whose it is and leads back to the case.
      let ofCase: { title: string; backLink: string } | null = null;
      try {
        if (q.case) {
          const id = await caseIdOf(deps.database.db, q.case);
          ofCase = { title: `Audit history of ${q.case}`, backLink: `/panel/cases/${id}` };
        }
        entries = await readAuditLog(lookAs(deps, p), {
          subject: q.subject,
          case: q.case,
          action: q.action,
          afterPosition: q.after === undefined ? undefined : BigInt(q.after),
          limit: q.limit,
        });
      } catch (error) {
        // A case that does not exist is a mistake in the filter: said beside it, as a wrong value is.
        if (!(error instanceof DomainError && error.type === 'case-not-found')) throw error;
        const failed = formErrors(invalid([{ pointer: '/case', detail: `There is no case ${q.case}` }]), (ptr) => ptr.slice(1));
        return render(c, 'audit-log', { ...model, ...failed, entries: [] }, 404);
      }
      const last = entries.at(-1);
      const names = await userNames(
        deps.database.db,
        entries.flatMap((e) => (e.actorUserId ? [e.actorUserId] : [])),
      );
      const { after: _after, ...rest } = f.raw;
      return render(c, 'audit-log', {
        ...model,
        ...ofCase,
        ...NO_ERRORS,
        entries: entries.map((e) => ({
          ...e,
          actorName: e.actorUserId ? (names.get(e.actorUserId) ?? null) : null,
          position: e.position.toString(),
          detail: JSON.stringify(e.detail, null, 2),
          // In the ledger's unit, as the accounts page shows it: £ for GBP accounts, credits for CREDIT.
          transfers: e.transfers.map((t) => ({ ...t, amount: amountIn(t.debitAccountId.split('/')[0] ?? '', BigInt(t.amount)) })),
        })),
        nextHref: entries.length === q.limit && last ? withQuery('/audit-log', { ...rest, after: last.position.toString() }) : null,
        firstHref: q.after ? withQuery('/audit-log', rest) : null,
      });
    });

    // The check of the books runs in the background (src/verify/runner.ts), as POST /ledger/verifications
    // does: the pages start one and follow it, so a large fund's check holds no page open.
    web.get('/ledger/verification', async (c) => {
      const p = requireRole(c, READERS);
      if (p instanceof Response) return p;
      const now = deps.clock();
      const recent = await listVerifications(lookAs(deps, p), { limit: RECENT_CHECKS }, now);
      return render(c, 'audit-verification', {
        title: 'Check of the books',
        backLink: '/ledger',
        ...checkModel(recent[0] ?? null),
        recent: recent.map((v) => ({ ...v, href: `/ledger/verification/${v.id}`, statusTag: CHECK_STATUS[v.status] })),
      });
    });

    web.get('/ledger/verification/:id{[0-9a-f-]{36}}', async (c) => {
      const p = requireRole(c, READERS);
      if (p instanceof Response) return p;
      const v = await readVerification(lookAs(deps, p), c.req.param('id'), deps.clock());
      return render(c, 'audit-verification', {
        title: `Check of the books started ${londonDate(v.startedAt, true)}`,
        backLink: '/ledger/verification',
        ...checkModel(v),
        one: true,
      });
    });

    web.post('/ledger/verification', async (c) => {
      const p = requireRole(c, startVerification.roles);
      if (p instanceof Response) return p;
      const { verification, started } = await actingAsUser(deps, c, (act) => startVerification(act, []));
      // Once its record has committed: the thread reads its own snapshot, after it.
      if (started) runner(deps).start(verification.id, []);
      return c.redirect(`/ledger/verification/${verification.id}`, 303);
    });
  },
};
