import { describe, expect, it } from 'vitest';
import { accountResult, closeRefusal, fingerprintOf, type LedgerState, type PendingState, runBatch } from '../../src/ledger/batch.ts';
import type { TransferError } from '../../src/ledger/errors.ts';
import { type Account, MAX_AMOUNT, type NewAccount, type TransferInput } from '../../src/ledger/types.ts';

/*
 * The ledger's state machine (src/ledger/batch.ts) on its own, with no database: each named
 * refusal of src/ledger/README.md from the state a batch runs against. The same contract is
 * checked against storage on both engines by test/ledger/model.test.ts.
 */

const NOW = new Date('2026-06-01T09:00:00Z');

function account(id: string, over: Partial<Account> = {}): Account {
  const fresh = accountResult({ id, ledger: 'GBP', kind: 'test' }, undefined, NOW);
  if (!('account' in fresh)) throw new Error(`cannot open ${id}`);
  return { ...fresh.account, ...over };
}

/** A state with the accounts given (the fund may not owe; the exchequer may), nothing pending, nothing known. */
function state(...accounts: Account[]): LedgerState {
  return { accounts: new Map(accounts.map((a) => [a.id, a])), known: new Map(), pendings: new Map(), notPending: new Set() };
}

const move = (id: string, amount: bigint, over: Partial<TransferInput> = {}): TransferInput => ({
  id,
  debitAccountId: 'exchequer',
  creditAccountId: 'fund',
  amount,
  ledger: 'GBP',
  code: 'contribution',
  ...over,
});

const errorsOf = (inputs: TransferInput[], s: LedgerState) =>
  runBatch(inputs, s, NOW).results.map((r) => ('error' in r ? r.error : r.status));

const usual = () =>
  state(account('exchequer'), account('fund', { debitsMustNotExceedCredits: true }), account('other-unit', { ledger: 'CREDIT' }));

describe('the ledger state machine, without storage', () => {
  it('moves money between two accounts and reports both sides’ counters after it', () => {
    const s = usual();
    const out = runBatch([move('t1', 500n)], s, NOW);
    expect(out.results[0]).toMatchObject({ status: 'created', transfer: { amount: 500n, createdAt: NOW.toISOString() } });
    expect(s.accounts.get('fund')).toMatchObject({ creditsPosted: 500n });
    expect(s.accounts.get('exchequer')).toMatchObject({ debitsPosted: 500n });
    expect([...out.touched].sort()).toEqual(['exchequer', 'fund']);
    expect(out.failures).toEqual([]);
  });

  it.each<[string, Partial<TransferInput>, TransferError]>([
    ['an id with a space', { id: 'a b' }, 'id_invalid'],
    ['pending and post at once', { pending: true, postPendingTransfer: true }, 'flags_are_mutually_exclusive'],
    ['no debit account', { debitAccountId: undefined }, 'debit_account_id_must_not_be_empty'],
    ['no credit account', { creditAccountId: undefined }, 'credit_account_id_must_not_be_empty'],
    ['the same account twice', { creditAccountId: 'exchequer' }, 'accounts_must_be_different'],
    ['a pending id on a single transfer', { pendingId: 'p1' }, 'pending_id_must_be_empty'],
    ['a timeout on a single transfer', { timeoutSeconds: 60 }, 'timeout_reserved_for_pending_transfer'],
    ['no ledger', { ledger: undefined }, 'ledger_invalid'],
    ['no code', { code: '' }, 'code_must_not_be_empty'],
    ['no amount', { amount: 0n }, 'amount_must_not_be_zero'],
    ['a negative amount', { amount: -1n }, 'amount_must_not_be_negative'],
    ['an amount past 2^53 − 1', { amount: MAX_AMOUNT + 1n }, 'amount_too_large'],
    ['a fractional timeout', { pending: true, timeoutSeconds: 1.5 }, 'timeout_invalid'],
    ['a long reference', { reference: 'x'.repeat(501) }, 'reference_too_long'],
    ['a post naming no pending transfer', { postPendingTransfer: true }, 'pending_id_must_not_be_empty'],
    ['a post naming itself', { postPendingTransfer: true, pendingId: 't1' }, 'pending_id_must_be_different'],
    ['an unknown debit account', { debitAccountId: 'nobody' }, 'debit_account_not_found'],
    ['an unknown credit account', { creditAccountId: 'nobody' }, 'credit_account_not_found'],
    ['accounts in two units', { creditAccountId: 'other-unit' }, 'accounts_must_have_the_same_ledger'],
    ['a transfer in another unit than its accounts', { ledger: 'CREDIT' }, 'transfer_must_have_the_same_ledger_as_accounts'],
  ])('refuses %s by name', (_what, over, error) => {
    expect(errorsOf([move('t1', 500n, over)], usual())).toEqual([error]);
  });

  it('refuses to let an account that may not owe pay out more than it holds (exceeds_credits), and records it', () => {
    const s = usual();
    const out = runBatch([move('t1', 100n), move('t2', 101n, { debitAccountId: 'fund', creditAccountId: 'exchequer' })], s, NOW);
    expect(out.results.map((r) => ('error' in r ? r.error : r.status))).toEqual(['created', 'exceeds_credits']);
    expect(out.failures).toEqual([{ id: 't2', error: 'exceeds_credits', fingerprint: expect.any(String) }]);
    // A later batch that knows the failure refuses the id whatever the balances are by then.
    expect(runBatch([move('t2', 1n)], s, NOW).results[0]).toEqual({
      id: 't2',
      error: 'id_already_failed',
      originalError: 'exceeds_credits',
    });
  });

  it('refuses to let an account that may not be owed take in more than it paid (exceeds_debits)', () => {
    const s = state(account('exchequer', { creditsMustNotExceedDebits: true }), account('fund'));
    expect(errorsOf([move('t1', 1n, { debitAccountId: 'fund', creditAccountId: 'exchequer' })], s)).toEqual(['exceeds_debits']);
  });

  it('names the first counter that would pass 2^53 − 1', () => {
    const s = usual();
    expect(errorsOf([move('t1', MAX_AMOUNT), move('t2', 1n)], s)).toEqual(['created', 'overflows_debits_posted']);
    const pending = usual();
    expect(errorsOf([move('p1', MAX_AMOUNT, { pending: true }), move('p2', 1n, { pending: true })], pending)).toEqual([
      'created',
      'overflows_debits_pending',
    ]);
    expect(errorsOf([move('t3', 1n)], pending)).toEqual(['overflows_debits']);
  });

  it('fails a linked chain whole: the failing member is named, the others get linked_event_failed, nothing moves', () => {
    const s = usual();
    const out = runBatch(
      [move('a', 100n, { linked: true }), move('b', 50n, { linked: true }), move('c', 1n, { creditAccountId: 'nobody' }), move('d', 7n)],
      s,
      NOW,
    );
    expect(out.results.map((r) => ('error' in r ? r.error : r.status))).toEqual([
      'linked_event_failed',
      'linked_event_failed',
      'credit_account_not_found',
      'created',
    ]);
    expect(s.accounts.get('fund')).toMatchObject({ creditsPosted: 7n });
    expect(out.created.map((c) => c.transfer.id)).toEqual(['d']);
    expect([...s.known.keys()].sort()).toEqual(['c', 'd']);
  });

  it('fails a chain left open at the end of the batch with linked_event_chain_open on its last member', () => {
    expect(errorsOf([move('a', 1n), move('b', 1n, { linked: true }), move('c', 1n, { linked: true })], usual())).toEqual([
      'created',
      'linked_event_failed',
      'linked_event_chain_open',
    ]);
  });

  it('replays a known id with the same request, and refuses it with another', () => {
    const s = usual();
    runBatch([move('t1', 10n)], s, NOW);
    expect(errorsOf([move('t1', 10n), move('t1', 11n)], s)).toEqual(['exists', 'exists_with_different_fields']);
    expect(fingerprintOf(move('t1', 10n))).not.toBe(fingerprintOf(move('t1', 11n)));
  });

  describe('resolving a pending transfer', () => {
    const withPending = (over: Partial<PendingState> = {}) => {
      const s = usual();
      runBatch([move('p1', 100n, { pending: true })], s, NOW);
      Object.assign(s.pendings.get('p1') as PendingState, over);
      return s;
    };
    const post = (id: string, over: Partial<TransferInput> = {}): TransferInput => ({
      id,
      pendingId: 'p1',
      postPendingTransfer: true,
      ...over,
    });
    const voids = (id: string, over: Partial<TransferInput> = {}): TransferInput => ({
      id,
      pendingId: 'p1',
      voidPendingTransfer: true,
      ...over,
    });

    it('posts part of a reservation and releases the rest', () => {
      const s = withPending();
      expect(errorsOf([post('q1', { amount: 60n })], s)).toEqual(['created']);
      expect(s.accounts.get('fund')).toMatchObject({ creditsPending: 0n, creditsPosted: 60n });
      expect(s.pendings.get('p1')).toMatchObject({ status: 'posted', resolvedBy: 'q1', changed: true });
    });

    it.each<[string, () => LedgerState, TransferInput, TransferError]>([
      ['no such pending transfer', () => usual(), post('q1'), 'pending_transfer_not_found'],
      [
        'a transfer that is not pending',
        () => {
          const s = usual();
          s.notPending.add('p1');
          return s;
        },
        post('q1'),
        'pending_transfer_not_pending',
      ],
      [
        'another debit account',
        () => withPending(),
        post('q1', { debitAccountId: 'fund' }),
        'pending_transfer_has_different_debit_account_id',
      ],
      [
        'another credit account',
        () => withPending(),
        post('q1', { creditAccountId: 'x' }),
        'pending_transfer_has_different_credit_account_id',
      ],
      ['another ledger', () => withPending(), post('q1', { ledger: 'CREDIT' }), 'pending_transfer_has_different_ledger'],
      ['another code', () => withPending(), post('q1', { code: 'other' }), 'pending_transfer_has_different_code'],
      ['one already posted', () => withPending({ status: 'posted' }), post('q1'), 'pending_transfer_already_posted'],
      ['one already voided', () => withPending({ status: 'voided' }), voids('q1'), 'pending_transfer_already_voided'],
      ['one that lapsed', () => withPending({ expiresAt: NOW.toISOString() }), post('q1'), 'pending_transfer_expired'],
      ['a void of another amount', () => withPending(), voids('q1', { amount: 99n }), 'pending_transfer_has_different_amount'],
      ['a post of more than was reserved', () => withPending(), post('q1', { amount: 101n }), 'exceeds_pending_transfer_amount'],
      ['a post to a closed account', () => withPending(), post('q1'), 'credit_account_closed'],
    ])('refuses %s by name', (what, make, input, error) => {
      const s = make();
      if (what.includes('closed')) (s.accounts.get('fund') as Account).closed = true;
      expect(errorsOf([input], s)).toEqual([error]);
    });

    it('voids into a closed account: a reservation can always be released', () => {
      const s = withPending();
      (s.accounts.get('fund') as Account).closed = true;
      expect(errorsOf([voids('q1')], s)).toEqual(['created']);
      expect(s.accounts.get('fund')).toMatchObject({ creditsPending: 0n, creditsPosted: 0n });
    });
  });

  describe('accounts', () => {
    const fund: NewAccount = { id: 'fund', ledger: 'GBP', kind: 'fund', debitsMustNotExceedCredits: true };
    it.each<[string, NewAccount, string]>([
      ['a bad id', { ...fund, id: '-x' }, 'id_invalid'],
      ['an unknown ledger', { ...fund, ledger: 'EUR' as 'GBP' }, 'ledger_invalid'],
      ['no kind', { ...fund, kind: '' }, 'kind_must_not_be_empty'],
      ['both limits', { ...fund, creditsMustNotExceedDebits: true }, 'flags_are_mutually_exclusive'],
    ])('refuses to open an account with %s', (_what, input, error) => {
      expect(accountResult(input, undefined, NOW)).toEqual({ id: input.id, error });
    });

    it('opens an account at zero, and replays it or refuses different fields for an id that exists', () => {
      const opened = accountResult(fund, undefined, NOW);
      expect(opened).toMatchObject({ status: 'created', account: { debitsPosted: 0n, creditsPosted: 0n, closed: false } });
      const stored = (opened as { account: Account }).account;
      expect(accountResult(fund, stored, NOW)).toMatchObject({ status: 'exists' });
      expect(accountResult({ ...fund, kind: 'other' }, stored, NOW)).toEqual({ id: 'fund', error: 'exists_with_different_fields' });
    });

    it('closes only an open account with nothing pending', () => {
      expect(closeRefusal(undefined)).toBe('account_not_found');
      expect(closeRefusal(account('a', { closed: true }))).toBe('account_already_closed');
      expect(closeRefusal(account('a', { creditsPending: 1n }))).toBe('account_has_pending_transfers');
      expect(closeRefusal(account('a'))).toBeNull();
    });
  });
});
