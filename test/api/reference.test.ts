import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestApp, testApp } from '../support/app.ts';
import { engines } from '../support/db.ts';

describe.each(engines())('reference data on %s', (engine) => {
  let t: TestApp;
  let council: string;
  beforeAll(async () => {
    t = await testApp(engine);
    council = await t.userToken({ name: 'Lewisham', role: 'council', organisationCode: 'LEWISHAM' });
  });
  afterAll(() => t.destroy());

  it('lists the departments a prevention fund draws on, the fund and the Exchequer', async () => {
    const r = await t.request('GET', '/api/v1/organisations?kind=department', { token: council });
    expect(r.status).toBe(200);
    const codes = r.body.map((o: { code: string }) => o.code);
    expect(codes).toEqual(expect.arrayContaining(['DHSC', 'DWP', 'MOJ', 'HO', 'DFE', 'MHCLG']));
    expect((await t.request('GET', '/api/v1/organisations?kind=fund')).body).toHaveLength(1);
    expect((await t.request('GET', '/api/v1/organisations?kind=exchequer')).body).toHaveLength(1);
  });

  it('lists the 13 Total Place pilot places with their councils and themes', async () => {
    const r = await t.request('GET', '/api/v1/places', { token: council });
    expect(r.body).toHaveLength(13);
    const bradford = r.body.find((p: { code: string }) => p.code === 'BRADFORD');
    expect(bradford.councilCodes).toEqual(['BRADFORD']);
    const one = await t.request('GET', '/api/v1/places/LUTON-CENTRAL-BEDFORDSHIRE');
    expect(one.status).toBe(200);
    expect(one.body.councilCodes.sort()).toEqual(['CENTRAL-BEDFORDSHIRE', 'LUTON']);
    expect((await t.request('GET', '/api/v1/places/NOWHERE')).status).toBe(404);
  });

  it('filters organisations by place, and finds one by code', async () => {
    const r = await t.request('GET', '/api/v1/organisations?place=BIRMINGHAM');
    expect(r.body.length).toBeGreaterThan(1);
    expect(r.body.every((o: { placeCode: string }) => o.placeCode === 'BIRMINGHAM')).toBe(true);
    const one = await t.request('GET', '/api/v1/organisations/BIRMINGHAM');
    expect(one.body).toMatchObject({ code: 'BIRMINGHAM', kind: 'council', gssCode: 'E08000025' });
    expect((await t.request('GET', '/api/v1/organisations/NOPE')).status).toBe(404);
    const bad = await t.request('GET', '/api/v1/organisations?kind=ministry');
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].parameter).toBe('kind');
  });

  it('lists the themes, including the ones the pilots worked on', async () => {
    const r = await t.request('GET', '/api/v1/themes');
    const codes = r.body.map((x: { code: string }) => x.code);
    expect(codes).toEqual(expect.arrayContaining(['older-people', 'offenders', 'alcohol-and-drugs', 'guns-and-gangs']));
  });

  it('needs a token', async () => {
    expect((await t.request('GET', '/api/v1/themes', { token: null })).status).toBe(401);
  });
});
