import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../src/db/database.ts';
import { setDisposalTarget } from '../../src/disposals/disposals.ts';
import { MAX_AMOUNT } from '../../src/ledger/types.ts';
import { setUpYear, type TestApp, testApp } from '../support/app.ts';
import { engines } from '../support/db.ts';
import { expectInvalid, expectProblem } from '../support/releases.ts';

/*
 * Pooled asset disposals: treasury sets each department's capital-receipts target per place and
 * year, departments record disposals, and each place shows its pooled target, receipts, whether
 * it is met together, and each department's part.
 */

describe.each(engines())('pooled asset disposals on %s', (engine) => {
  let t: TestApp;
  let dhsc: string;
  let moj: string;
  beforeAll(async () => {
    t = await testApp(engine);
    await setUpYear(t);
    dhsc = await t.userToken({ name: 'DHSC estates', role: 'department', organisationCode: 'DHSC' });
    moj = await t.userToken({ name: 'MoJ estates', role: 'department', organisationCode: 'MOJ' });
  });
  afterAll(() => t.destroy());

  const target = (place: string, body: Record<string, unknown>, token?: string) =>
    t.request('PUT', `/api/v1/places/${place}/disposal-targets`, { token, body: { financialYear: '2026-27', ...body } });
  const dispose = (place: string, token: string, body: Record<string, unknown>) =>
    t.request('POST', `/api/v1/places/${place}/disposals`, { token, body: { disposedOn: '2026-05-20', ...body } });

  it('pools targets and receipts per place; one department carries another', async () => {
    expect((await target('BRADFORD', { departmentCode: 'DHSC', targetPence: 1_000_000_00 })).status).toBe(200);
    const set = await target('BRADFORD', { departmentCode: 'MOJ', targetPence: 500_000_00 });
    expect(set.body).toMatchObject({ pooledTargetPence: 1_500_000_00, receiptsPence: 0, met: false });
    await target('LEWISHAM', { departmentCode: 'MOJ', targetPence: 200_000_00 });

    const d = await dispose('BRADFORD', dhsc, { asset: 'Former health centre, Manningham Lane', receiptPence: 1_200_000_00 });
    expect(d.status, d.text).toBe(201);
    expect(d.body).toMatchObject({ placeCode: 'BRADFORD', departmentCode: 'DHSC', financialYear: '2026-27', receiptPence: 1_200_000_00 });
    let place = (await t.request('GET', '/api/v1/places/BRADFORD/disposals?fy=2026-27', { token: moj })).body;
    expect(place).toMatchObject({ pooledTargetPence: 1_500_000_00, receiptsPence: 1_200_000_00, met: false });
    await dispose('BRADFORD', moj, { asset: 'Magistrates court annex', receiptPence: 300_000_00 });
    place = (await t.request('GET', '/api/v1/places/BRADFORD/disposals?fy=2026-27')).body;
    expect(place).toMatchObject({ pooledTargetPence: 1_500_000_00, receiptsPence: 1_500_000_00, met: true });
    expect(place.departments).toEqual([
      { departmentCode: 'DHSC', targetPence: 1_000_000_00, receiptsPence: 1_200_000_00 },
      { departmentCode: 'MOJ', targetPence: 500_000_00, receiptsPence: 300_000_00 },
    ]);
    expect(place.disposals).toHaveLength(2);
    const lewisham = (await t.request('GET', '/api/v1/places/LEWISHAM/disposals?fy=2026-27')).body;
    expect(lewisham).toMatchObject({ pooledTargetPence: 200_000_00, receiptsPence: 0, met: false });
    // Setting a target again replaces it.
    expect((await target('BRADFORD', { departmentCode: 'MOJ', targetPence: 900_000_00 })).body).toMatchObject({
      pooledTargetPence: 1_900_000_00,
      met: false,
    });
  });

  it('refuses bad input, unknown places, future dates and other roles', async () => {
    expectInvalid(await dispose('BRADFORD', dhsc, { asset: '', receiptPence: -1, disposedOn: '2026-02-30' }), [
      '/asset',
      '/disposedOn',
      '/receiptPence',
    ]);
    expectInvalid(await target('BRADFORD', { departmentCode: 'dhsc', targetPence: 1.5, extra: true }), [
      '/departmentCode',
      '/extra',
      '/targetPence',
    ]);
    expectProblem(await dispose('NOWHERE', dhsc, { asset: 'Depot', receiptPence: 1 }), 404, 'place-not-found');
    expectProblem(await target('BRADFORD', { departmentCode: 'BRADFORD', targetPence: 1 }), 404, 'department-not-found');
    expectProblem(
      await dispose('BRADFORD', dhsc, { asset: 'Depot', receiptPence: 1, disposedOn: '2026-06-02' }),
      422,
      'disposal-in-the-future',
    );
    expectProblem(
      await dispose('BRADFORD', dhsc, { asset: 'Depot', receiptPence: 1, disposedOn: '2025-06-02' }),
      404,
      'financial-year-not-found',
    );
    expectProblem(await target('BRADFORD', { departmentCode: 'DHSC', targetPence: 1 }, dhsc), 403, 'forbidden');
    const council = await t.userToken({ name: 'Bradford', role: 'council', organisationCode: 'BRADFORD' });
    expectProblem(await t.request('GET', '/api/v1/places/BRADFORD/disposals', { token: council }), 403, 'forbidden');
  });

  it('keeps a place’s totals exact: receipts or a pooled target past 2^53 − 1 pence are refused, not answered with a 500', async () => {
    // 90 disposals of £1tn (the most one may be) reach £90tn; the 91st would pass the limit.
    for (let i = 0; i < 90; i++) {
      const d = await dispose('CROYDON', dhsc, { asset: `Estate lot ${i}`, receiptPence: 100_000_000_000_000 });
      expect(d.status, d.text).toBe(201);
    }
    const over = await dispose('CROYDON', moj, { asset: 'One lot too many', receiptPence: 100_000_000_000_000 });
    expectProblem(over, 422, 'place-total-beyond-limit');
    expect(over.body.pointer).toBe('/receiptPence');
    const place = await t.request('GET', '/api/v1/places/CROYDON/disposals?fy=2026-27');
    expect(place.status, place.text).toBe(200);
    expect(place.body).toMatchObject({ receiptsPence: 9_000_000_000_000_000 });
    expect(place.body.disposals).toHaveLength(90);

    // A target beyond what the API takes, set in the domain, leaves no room for another department's.
    const me = (await t.request('GET', '/api/v1/me')).body;
    await inTransaction(t.database.db, (trx) =>
      setDisposalTarget(
        {
          trx,
          principal: { userId: me.id, name: me.name, role: 'treasury', organisationCode: null, isChair: false },
          requestId: null,
          now: new Date('2026-06-01T09:00:00Z'),
        },
        'CROYDON',
        { financialYear: '2026-27', departmentCode: 'DHSC', targetPence: MAX_AMOUNT - 5n },
      ),
    );
    const tooMuch = await target('CROYDON', { departmentCode: 'MOJ', targetPence: 10 });
    expectProblem(tooMuch, 422, 'place-total-beyond-limit');
    expect(tooMuch.body.pointer).toBe('/targetPence');
    expect((await target('CROYDON', { departmentCode: 'MOJ', targetPence: 5 })).status).toBe(200);
  });
});
