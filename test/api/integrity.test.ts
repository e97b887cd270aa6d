import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashOf } from '../../src/audit/audit.ts';
import { engines } from '../support/db.ts';
import { approve, approvedCase, claim, expectProblem, tranches, type World, world } from '../support/releases.ts';

/*
 * The attacks of the integrity issue, each of which used to get through: one person releasing
 * more than the two-approver threshold (splitting, a second identity, acting as the claimant), a
 * conflict that left the member's moderation ranking the case, and a database writer rewriting
 * the audit chain or the ledger unseen.
 */

// biome-ignore lint/suspicious/noExplicitAny: JSON replies
type Json = any;
const M = 1_000_000_00;
const threeTranches = [{ amountPence: M }, { amountPence: M }, { amountPence: M }];

describe.each(engines())('integrity on %s', (engine) => {
  let w: World;
  beforeAll(async () => {
    w = await world(engine);
  });
  afterAll(() => w.t.destroy());
  const verify = async () => (await w.t.request('GET', '/api/v1/ledger/verify')).body;

  describe('four eyes no one person can get round', () => {
    it('splitting: the member who decided cannot approve, and one approver alone stops at the threshold of cumulative releases', async () => {
      const id = await approvedCase(w, { leadPence: 3 * M, tranches: threeTranches });
      expect((await tranches(w, id)).map((t: Json) => t.approvalsNeeded)).toEqual([1, 2, 2]);
      expect((await claim(w, id, 1)).status).toBe(200);
      // The chair decided the case: refused outright.
      const chair = await approve(w, id, 1, w.tokens.chair);
      expectProblem(chair, 403, 'approver-not-independent');
      expect(chair.body.detail).toContain('you decided to approve this case');
      expect((await approve(w, id, 1, w.tokens.alice)).body.status).toBe('released');
      expect((await claim(w, id, 2)).status).toBe(200);
      // £1m more would take the award's releases to £2m: Alice alone cannot release it.
      expect((await approve(w, id, 2, w.tokens.alice)).body).toMatchObject({ status: 'claimed', approvalsNeeded: 2 });
      const released = (await tranches(w, id)).reduce((s: number, t: Json) => s + (t.releasedPence ?? 0), 0);
      expect(released).toBe(M);
      expect((await approve(w, id, 2, w.tokens.bob)).body.status).toBe('released');
    });

    it('a second identity: a treasury user cannot create another treasury user to approve with', async () => {
      const id = await approvedCase(w, { leadPence: 2 * M, tranches: [{ amountPence: 2 * M }] });
      expect((await claim(w, id, 1)).status).toBe(200);
      const asked = await w.t.request('POST', '/api/v1/users', { body: { name: 'My other self', role: 'treasury' } });
      expect(asked.status).toBe(202);
      expect(asked.body.token).toBeUndefined();
      // Alone, the request goes nowhere.
      expectProblem(await w.t.request('POST', `/api/v1/user-requests/${asked.body.id}/approve`), 403, 'second-treasury-user-needed');
      expect((await approve(w, id, 1, w.t.treasury)).body.status).toBe('claimed');
      // Even with a colleague's approval, the account the treasury user asked for is not independent of them.
      const colleague = await w.t.userToken({ name: 'Colleague', role: 'treasury' });
      const second = await w.t.request('POST', `/api/v1/user-requests/${asked.body.id}/approve`, { token: colleague });
      expect(second.status).toBe(201);
      const other = await approve(w, id, 1, second.body.token);
      expectProblem(other, 403, 'approver-not-independent');
      expect(other.body.detail).toContain('an approver of this tranche');
      // ...nor of the colleague who approved the account.
      expect((await tranches(w, id))[0]).toMatchObject({ status: 'claimed' });
      expect((await approve(w, id, 1, w.tokens.alice)).body.status).toBe('released');
    });

    it('acting as the claimant: an approver who created the claimant’s account does not count', async () => {
      const id = await approvedCase(w, { leadPence: 900_000_00 });
      const puppet = await w.t.request('POST', '/api/v1/users', {
        body: { name: 'Bradford (made up)', role: 'council', organisationCode: 'BRADFORD' },
      });
      expect(puppet.status).toBe(201);
      expect((await claim(w, id, 1, puppet.body.token)).status).toBe(200);
      const own = await approve(w, id, 1, w.t.treasury);
      expectProblem(own, 403, 'approver-not-independent');
      expect(own.body.detail).toContain('claimant');
      expect((await tranches(w, id))[0].status).toBe('claimed');
      expect((await approve(w, id, 1, w.tokens.alice)).body.status).toBe('released');
    });

    it('taking over an account with a re-issued token: none for treasury or panel, and the issuer answers for any other', async () => {
      const id = await approvedCase(w, { leadPence: 2 * M, tranches: [{ amountPence: 2 * M }] });
      const me = async (token: string) => (await w.t.request('GET', '/api/v1/me', { token })).body.id as string;
      // A treasury user re-issuing a panel member's token would hold a second approver's identity.
      const carol = await w.t.userToken({ name: 'Carol', role: 'panel' });
      const taken = await w.t.request('POST', `/api/v1/users/${await me(carol)}/tokens`);
      expectProblem(taken, 403, 'privileged-token-by-operator');
      expect((await w.t.request('GET', '/api/v1/me', { token: carol })).status).toBe(200);
      // ...and of another treasury user, who could approve the accounts they ask for.
      const colleague = await w.t.userToken({ name: 'Colleague two', role: 'treasury' });
      expectProblem(await w.t.request('POST', `/api/v1/users/${await me(colleague)}/tokens`), 403, 'privileged-token-by-operator');
      // A council user's token can be re-issued, but whoever did it may not approve that user's claim.
      const lead = await w.t.request('POST', `/api/v1/users/${w.ids.bradford2}/tokens`);
      expect(lead.status).toBe(201);
      expect((await claim(w, id, 1, lead.body.token)).status).toBe(200);
      const own = await approve(w, id, 1, w.t.treasury);
      expectProblem(own, 403, 'approver-not-independent');
      expect(own.body.detail).toContain('claimant');
      expect((await approve(w, id, 1, w.tokens.alice)).body.status).toBe('claimed');
      expect((await approve(w, id, 1, carol)).body.status).toBe('released');
    });

    it('minting accounts: a treasury user does not approve a request from an account they answer for', async () => {
      const me = async (token: string) => (await w.t.request('GET', '/api/v1/me', { token })).body.id as string;
      const first = await w.t.userToken({ name: 'First official', role: 'treasury' });
      const second = await w.t.userToken({ name: 'Second official', role: 'treasury' });
      // The first asks for a treasury account; the second approves it, and is handed its token.
      const asked = await w.t.request('POST', '/api/v1/users', { token: first, body: { name: 'New official', role: 'treasury' } });
      const third = await w.t.request('POST', `/api/v1/user-requests/${asked.body.id}/approve`, { token: second });
      expect(third.status).toBe(201);
      // As that account the second asks for panel accounts, then approves them as themselves: refused.
      for (const [from, by] of [
        [third.body.token, second],
        [second, third.body.token],
      ] as const) {
        const panel = await w.t.request('POST', '/api/v1/users', { token: from, body: { name: 'Puppet member', role: 'panel' } });
        expect(panel.status).toBe(202);
        const refused = await w.t.request('POST', `/api/v1/user-requests/${panel.body.id}/approve`, { token: by });
        expectProblem(refused, 403, 'second-treasury-user-needed');
        expect(refused.body.detail).toContain('answer');
        const listed = (await w.t.request('GET', '/api/v1/user-requests')).body;
        expect(JSON.stringify(listed)).toContain(panel.body.id);
        // An independent treasury user can; the first official answers for the new account (asked for it), so not for its requests.
        const independent = from === second ? first : await w.t.userToken({ name: 'Independent official', role: 'treasury' });
        expect((await w.t.request('POST', `/api/v1/user-requests/${panel.body.id}/approve`, { token: independent })).status).toBe(201);
      }
      const fromThird = await w.t.request('POST', '/api/v1/users', { token: third.body.token, body: { name: 'Another', role: 'panel' } });
      expectProblem(
        await w.t.request('POST', `/api/v1/user-requests/${fromThird.body.id}/approve`, { token: first }),
        403,
        'second-treasury-user-needed',
      );
      expect(await me(third.body.token)).toBe(third.body.id);
    });
  });

  describe('a conflict voids what the member already did', () => {
    it('voids the chair’s moderation, and the ranking falls back to the members’ mean', async () => {
      const { simpleCase, submit, draftCase } = await import('../support/cases.ts');
      const body = simpleCase(w.roundId, {
        leadPence: 500_000_00,
        matchPence: 60_000_00,
        volume: 15_000,
        title: 'Moderated then conflicted',
      });
      const id = (await submit(w.t, w.tokens.bradford, (await draftCase(w.t, w.tokens.bradford, body)).id)).case.id;
      const ones = ['strategic-fit', 'value-for-money', 'evidence', 'deliverability', 'partnership'].map((criterion) => ({
        criterion,
        score: 1,
        justification: 'Weak on this criterion.',
      }));
      for (const token of [w.tokens.alice, w.tokens.bob]) {
        expect((await w.t.request('POST', `/api/v1/cases/${id}/scores`, { token, body: { scores: ones } })).status).toBe(200);
      }
      const mod = await w.t.request('POST', `/api/v1/cases/${id}/moderation`, {
        token: w.tokens.chair,
        body: { score: 5, reason: 'The panel discussed it.' },
      });
      expect(mod.status, mod.text).toBe(200);
      const rank = async () =>
        (await w.t.request('GET', `/api/v1/rounds/${w.roundId}/ranking`)).body.cases.find((c: Json) => c.caseId === id).moderatedScore;
      expect(await rank()).toBe(5);
      const declared = await w.t.request('POST', `/api/v1/cases/${id}/conflicts`, {
        token: w.tokens.chair,
        body: { reason: 'A relative leads the provider.' },
      });
      expect(declared.status).toBe(201);
      expect(await rank()).toBe(1);
      const board = (await w.t.request('GET', `/api/v1/cases/${id}/scores`)).body;
      expect(board.moderation).toBeNull();
      const audit = (await w.t.request('GET', `/api/v1/audit-log?subject=case/${id}&action=panel.conflict-declared`)).body.entries;
      expect(audit.at(-1).detail).toMatchObject({ voidedModeration: { score: 5 }, voidedApprovals: [] });
    });

    it('stops counting the pending approval of a member who later declares a conflict', async () => {
      const id = await approvedCase(w, { leadPence: 2 * M, tranches: [{ amountPence: 2 * M }] });
      expect((await claim(w, id, 1)).status).toBe(200);
      expect((await approve(w, id, 1, w.tokens.alice)).body.status).toBe('claimed');
      const declared = await w.t.request('POST', `/api/v1/cases/${id}/conflicts`, {
        token: w.tokens.alice,
        body: { reason: 'Late declaration.' },
      });
      expect(declared.status).toBe(201);
      expect((await tranches(w, id))[0].approvals).toEqual([]);
      // Bob's approval is now the only one: not enough for £2m.
      expect((await approve(w, id, 1, w.tokens.bob)).body).toMatchObject({
        status: 'claimed',
        approvals: [expect.objectContaining({ userId: w.ids.bob })],
      });
      expect((await approve(w, id, 1, w.t.treasury)).body.status).toBe('released');
      const audit = (await w.t.request('GET', `/api/v1/audit-log?subject=case/${id}&action=panel.conflict-declared`)).body.entries;
      expect(audit.at(-1).detail.voidedApprovals).toEqual([1]);
    });
  });

  describe('an audit chain anchored outside the database and bound to the ledger', () => {
    const db = () => w.t.database.db;

    it('records in each audit entry the transfers it caused, and verify agrees both ways', async () => {
      const v = await verify();
      expect(v.ok, JSON.stringify(v.binding.problems)).toBe(true);
      expect(v.binding.transfersChecked).toBeGreaterThan(5);
      expect(v.binding.auditedTransfers).toBe(v.binding.transfersChecked);
      const contributions = (await w.t.request('GET', '/api/v1/audit-log?action=contributions.posted')).body.entries;
      expect(contributions[0].transfers).toContainEqual({
        id: 'contribution/2026-27/DHSC',
        debitAccountId: 'GBP/2026-27/department/DHSC',
        creditAccountId: 'GBP/2026-27/fund',
        amount: '2500000000',
        ledger: 'GBP',
        code: 'contribution',
        flags: 0,
        pendingId: null,
      });
    });

    it('catches a contribution lowered by £1m together with both accounts’ counters', async () => {
      const id = 'contribution/2026-27/DHSC';
      const t = await db().selectFrom('transfers').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      const less = BigInt(t.amount) - BigInt(M);
      const bump = async (sign: 1n | -1n) => {
        await db()
          .updateTable('transfers')
          .set({ amount: sign < 0 ? less : BigInt(t.amount) })
          .where('id', '=', id)
          .execute();
        await db()
          .updateTable('accounts')
          .set((eb) => ({ debits_posted: eb('debits_posted', '+', sign * BigInt(M)) }))
          .where('id', '=', t.debit_account_id)
          .execute();
        await db()
          .updateTable('accounts')
          .set((eb) => ({ credits_posted: eb('credits_posted', '+', sign * BigInt(M)) }))
          .where('id', '=', t.credit_account_id)
          .execute();
      };
      await bump(-1n);
      try {
        const v = await verify();
        expect(v.accounts.mismatches).toEqual([]); // the ledger alone is consistent...
        expect(v.ok).toBe(false); // ...but its audit entry says otherwise
        expect(v.binding.problems).toContainEqual(expect.objectContaining({ transferId: id, problem: 'transfer-differs' }));
      } finally {
        await bump(1n);
      }
      expect((await verify()).ok).toBe(true);
    });

    it('catches a transfer with no audit entry, and an audited transfer missing from the ledger', async () => {
      await db()
        .updateTable('transfers')
        .set({ id: 'contribution/2026-27/DWP-renamed' })
        .where('id', '=', 'contribution/2026-27/DWP')
        .execute();
      try {
        const v = await verify();
        expect(v.binding.problems).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ transferId: 'contribution/2026-27/DWP-renamed', problem: 'transfer-not-audited' }),
            expect.objectContaining({ transferId: 'contribution/2026-27/DWP', problem: 'audited-transfer-missing' }),
          ]),
        );
      } finally {
        await db()
          .updateTable('transfers')
          .set({ id: 'contribution/2026-27/DWP' })
          .where('id', '=', 'contribution/2026-27/DWP-renamed')
          .execute();
      }
    });

    it('catches an actor_role changed with every later hash recomputed by the public (unkeyed) algorithm', async () => {
      const rows = await db().selectFrom('audit_log').selectAll().orderBy('position').execute();
      const target = rows.length - 4;
      let prev = rows[target - 1]?.hash as string;
      const forged = rows.slice(target).map((r, i) => {
        const row = { ...r, position: BigInt(r.position), actor_role: i === 0 ? 'auditor' : r.actor_role, prev_hash: prev };
        const material = JSON.stringify([
          row.prev_hash,
          row.position.toString(),
          row.at,
          row.actor_user_id,
          row.actor_role,
          row.action,
          row.subject,
          row.detail,
          row.request_id,
          row.transfers,
        ]);
        const hash = createHash('sha256').update(material).digest('hex');
        prev = hash;
        return { ...row, hash };
      });
      // Even rehashing with a guessed key fails: only the configured key reproduces the chain.
      for (const f of forged)
        await db()
          .updateTable('audit_log')
          .set({ actor_role: f.actor_role, prev_hash: f.prev_hash, hash: f.hash })
          .where('position', '=', f.position)
          .execute();
      await db().updateTable('audit_head').set({ hash: prev }).where('id', '=', 1).execute();
      try {
        const v = await verify();
        expect(v.ok).toBe(false);
        expect(v.audit.problems).toContainEqual(
          expect.objectContaining({ position: String(rows[target]?.position), problem: 'hash-mismatch' }),
        );
      } finally {
        for (const r of rows.slice(target))
          await db()
            .updateTable('audit_log')
            .set({ actor_role: r.actor_role, prev_hash: r.prev_hash, hash: r.hash })
            .where('position', '=', r.position)
            .execute();
        await db()
          .updateTable('audit_head')
          .set({ hash: rows.at(-1)?.hash as string })
          .where('id', '=', 1)
          .execute();
      }
      expect((await verify()).ok).toBe(true);
    });

    it('covers every hashed field: changing any one of them is a hash mismatch at that entry', async () => {
      const row = await db().selectFrom('audit_log').selectAll().where('position', '=', 3n).executeTakeFirstOrThrow();
      const changes: Record<string, unknown> = {
        at: '2020-01-01T00:00:00.000Z',
        actor_user_id: 'someone-else',
        actor_role: 'auditor',
        action: 'user.deleted',
        subject: 'user/other',
        detail: '{"changed":true}',
        request_id: 'forged-request',
        transfers: '[{"id":"x","debitAccountId":"a","creditAccountId":"b","amount":"1"}]',
      };
      for (const [field, value] of Object.entries(changes)) {
        await db()
          .updateTable('audit_log')
          .set({ [field]: value })
          .where('position', '=', 3n)
          .execute();
        const v = await verify();
        expect(v.audit.problems, field).toContainEqual(expect.objectContaining({ position: '3', problem: 'hash-mismatch' }));
        await db()
          .updateTable('audit_log')
          .set({ [field]: (row as Record<string, unknown>)[field] })
          .where('position', '=', 3n)
          .execute();
      }
      expect((await verify()).audit.ok).toBe(true);
    });

    it('checks each entry’s link to the one before, even when its own hash was recomputed with the key', async () => {
      const row = await db().selectFrom('audit_log').selectAll().where('position', '=', 4n).executeTakeFirstOrThrow();
      const relinked = { ...row, position: BigInt(row.position), prev_hash: 'a'.repeat(64) };
      await db()
        .updateTable('audit_log')
        .set({ prev_hash: relinked.prev_hash, hash: hashOf(relinked) })
        .where('position', '=', 4n)
        .execute();
      const next = await db().selectFrom('audit_log').selectAll().where('position', '=', 5n).executeTakeFirstOrThrow();
      const nextRelinked = { ...next, position: 5n, prev_hash: hashOf(relinked) };
      await db()
        .updateTable('audit_log')
        .set({ prev_hash: nextRelinked.prev_hash, hash: hashOf(nextRelinked) })
        .where('position', '=', 5n)
        .execute();
      try {
        const v = await verify();
        // Every hash checks out: only the links give it away.
        expect(v.audit.problems).toContainEqual(expect.objectContaining({ position: '4', problem: 'broken-link' }));
        expect(v.audit.problems.map((p: Json) => p.problem)).not.toContain('hash-mismatch');
      } finally {
        await db().updateTable('audit_log').set({ prev_hash: row.prev_hash, hash: row.hash }).where('position', '=', 4n).execute();
        await db().updateTable('audit_log').set({ prev_hash: next.prev_hash, hash: next.hash }).where('position', '=', 5n).execute();
      }
      expect((await verify()).audit.ok).toBe(true);
    });

    it('catches the last five entries deleted and the head moved back, against a checkpoint kept outside the database', async () => {
      const cp = await w.t.request('POST', '/api/v1/audit-log/checkpoints', { token: w.tokens.auditor });
      expect(cp.status).toBe(201);
      expect((await verify()).audit.checkpointsChecked).toBeGreaterThan(0);
      const rows = await db().selectFrom('audit_log').selectAll().orderBy('position', 'desc').limit(6).execute();
      const kept = rows[5] as (typeof rows)[number];
      await db().deleteFrom('audit_log').where('position', '>', kept.position).execute();
      await db().updateTable('audit_head').set({ position: kept.position, hash: kept.hash }).where('id', '=', 1).execute();
      try {
        const v = await verify();
        expect(v.ok).toBe(false);
        expect(v.audit.problems).toContainEqual(
          expect.objectContaining({ position: cp.body.position, problem: 'checkpoint-not-in-chain' }),
        );
        // The auditor's own copy of the checkpoint tells the same story.
        const own = await w.t.request('POST', '/api/v1/ledger/verify', { token: w.tokens.auditor, body: { checkpoints: [cp.body] } });
        expect(own.body.audit.problems).toContainEqual(expect.objectContaining({ problem: 'checkpoint-not-in-chain' }));
        // A checkpoint not signed with this service's key does not count.
        const fake = { ...cp.body, signature: cp.body.signature.replace(/^./, (c: string) => (c === 'A' ? 'B' : 'A')) };
        const forged = await w.t.request('POST', '/api/v1/ledger/verify', { token: w.tokens.auditor, body: { checkpoints: [fake] } });
        expect(forged.body.audit.problems).toContainEqual(expect.objectContaining({ problem: 'checkpoint-signature' }));
      } finally {
        for (const r of rows.slice(0, 5).reverse())
          await db()
            .insertInto('audit_log')
            .values({ ...r, position: BigInt(r.position) })
            .execute();
        await db()
          .updateTable('audit_head')
          .set({ position: BigInt(rows[0]?.position ?? 0), hash: rows[0]?.hash as string })
          .where('id', '=', 1)
          .execute();
      }
      expect((await verify()).ok).toBe(true);
    });

    it('catches a commitment turned into a payment, and a contribution recoded, with every counter made to agree', async () => {
      const id = await approvedCase(w, { leadPence: 900_000_00, title: 'Commitment to tamper with' });
      const pendingId = `tranche/${id}/1`;
      const t = await db().selectFrom('transfers').selectAll().where('id', '=', pendingId).executeTakeFirstOrThrow();
      const p = await db().selectFrom('pending_transfers').selectAll().where('id', '=', pendingId).executeTakeFirstOrThrow();
      const amount = BigInt(t.amount);
      const move = async (sign: 1n | -1n) => {
        // sign 1: the reservation becomes a posted payment to the council; -1 puts it back.
        await db()
          .updateTable('accounts')
          .set((eb) => ({
            debits_pending: eb('debits_pending', '-', sign * amount),
            debits_posted: eb('debits_posted', '+', sign * amount),
          }))
          .where('id', '=', t.debit_account_id)
          .execute();
        await db()
          .updateTable('accounts')
          .set((eb) => ({
            credits_pending: eb('credits_pending', '-', sign * amount),
            credits_posted: eb('credits_posted', '+', sign * amount),
          }))
          .where('id', '=', t.credit_account_id)
          .execute();
      };
      await db().updateTable('transfers').set({ flags: 0 }).where('id', '=', pendingId).execute();
      await db().deleteFrom('pending_transfers').where('id', '=', pendingId).execute();
      await move(1n);
      await db().updateTable('transfers').set({ code: 'buy-out' }).where('id', '=', 'contribution/2026-27/MOJ').execute();
      try {
        const v = await verify();
        expect(v.accounts.mismatches).toEqual([]);
        expect(v.pendingTransfers.inconsistent).toEqual([]);
        expect(v.ok).toBe(false);
        expect(v.binding.problems).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ transferId: pendingId, problem: 'transfer-differs' }),
            expect.objectContaining({ transferId: 'contribution/2026-27/MOJ', problem: 'transfer-differs' }),
          ]),
        );
      } finally {
        await move(-1n);
        await db().insertInto('pending_transfers').values(p).execute();
        await db().updateTable('transfers').set({ flags: t.flags }).where('id', '=', pendingId).execute();
        await db().updateTable('transfers').set({ code: 'contribution' }).where('id', '=', 'contribution/2026-27/MOJ').execute();
      }
      expect((await verify()).ok).toBe(true);
    });

    it('catches a reservation made to vanish: its pending row deleted, or marked expired though it never expires, counters lowered', async () => {
      const id = await approvedCase(w, { leadPence: 900_000_00, title: 'Reservation to tamper with' });
      const pendingId = `tranche/${id}/1`;
      const p = await db().selectFrom('pending_transfers').selectAll().where('id', '=', pendingId).executeTakeFirstOrThrow();
      const amount = BigInt(p.amount);
      const lower = async (sign: 1n | -1n) => {
        await db()
          .updateTable('accounts')
          .set((eb) => ({ debits_pending: eb('debits_pending', '-', sign * amount) }))
          .where('id', '=', p.debit_account_id)
          .execute();
        await db()
          .updateTable('accounts')
          .set((eb) => ({ credits_pending: eb('credits_pending', '-', sign * amount) }))
          .where('id', '=', p.credit_account_id)
          .execute();
      };
      const fundBefore = (await w.t.request('GET', '/api/v1/fund?fy=2026-27')).body.availablePence;
      await lower(1n);
      try {
        await db().deleteFrom('pending_transfers').where('id', '=', pendingId).execute();
        // The fund shows the reserved money as available again...
        expect((await w.t.request('GET', '/api/v1/fund?fy=2026-27')).body.availablePence).toBe(fundBefore + Number(amount));
        let v = await verify();
        expect(v.accounts.mismatches).toEqual([]);
        expect(v.ok).toBe(false); // ...and verify says so.
        expect(v.pendingTransfers.inconsistent).toContain(pendingId);
        await db()
          .insertInto('pending_transfers')
          .values({ ...p, status: 'expired', resolved_at: p.resolved_at ?? '2026-06-01T09:00:00.000Z' })
          .execute();
        v = await verify();
        expect(v.accounts.mismatches).toEqual([]);
        expect(v.ok).toBe(false);
        expect(v.pendingTransfers.inconsistent).toContain(pendingId);
      } finally {
        await db().deleteFrom('pending_transfers').where('id', '=', pendingId).execute();
        await db().insertInto('pending_transfers').values(p).execute();
        await lower(-1n);
      }
      expect((await verify()).ok).toBe(true);
    });

    it('reports an overdrawn account even when its counters agree with its transfers', async () => {
      const fundId = 'GBP/2026-27/fund';
      const acct = await db().selectFrom('accounts').selectAll().where('id', '=', fundId).executeTakeFirstOrThrow();
      const over = BigInt(acct.credits_posted) - BigInt(acct.debits_posted) - BigInt(acct.debits_pending) + 1n;
      const seq =
        BigInt(
          (
            await db()
              .selectFrom('transfers')
              .select((eb) => eb.fn.max('seq').as('m'))
              .executeTakeFirstOrThrow()
          ).m as bigint,
        ) + 1000n;
      const t = await db().selectFrom('transfers').selectAll().where('id', '=', 'contribution/2026-27/DHSC').executeTakeFirstOrThrow();
      await db()
        .insertInto('transfers')
        .values({
          ...t,
          seq,
          id: 'forged/overdraw',
          debit_account_id: fundId,
          credit_account_id: 'GBP/2026-27/department/DHSC',
          amount: over,
        })
        .execute();
      await db()
        .updateTable('accounts')
        .set((eb) => ({ debits_posted: eb('debits_posted', '+', over) }))
        .where('id', '=', fundId)
        .execute();
      await db()
        .updateTable('accounts')
        .set((eb) => ({ credits_posted: eb('credits_posted', '+', over) }))
        .where('id', '=', 'GBP/2026-27/department/DHSC')
        .execute();
      try {
        const v = await verify();
        expect(v.accounts.mismatches).toEqual([]);
        expect(v.limits.overdrawn).toEqual([fundId]);
        expect(v.ok).toBe(false);
      } finally {
        await db().deleteFrom('transfers').where('id', '=', 'forged/overdraw').execute();
        await db()
          .updateTable('accounts')
          .set((eb) => ({ debits_posted: eb('debits_posted', '-', over) }))
          .where('id', '=', fundId)
          .execute();
        await db()
          .updateTable('accounts')
          .set((eb) => ({ credits_posted: eb('credits_posted', '-', over) }))
          .where('id', '=', 'GBP/2026-27/department/DHSC')
          .execute();
      }
      expect((await verify()).ok).toBe(true);
    });
  });
});
