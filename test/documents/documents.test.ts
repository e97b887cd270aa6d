import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { demoCases } from '../../src/demo/cases.ts';
import { renderCommand } from '../../src/documents/cli.ts';
import { createDocumentService, type DocumentService } from '../../src/documents/service.ts';
import { formatPence } from '../../src/lib/money.ts';
import { engines } from '../support/db.ts';
import { type DemoWorld, demoWorld } from '../support/demo.ts';
import { readPdf } from '../support/pdf.ts';

/*
 * Every document rendered from the demo's year, read back as a reader would: its text holds the
 * figures the JSON API gives for the same things, it has sane pages, tags and an outline.
 */

const money = (pence: number) => formatPence(BigInt(pence));
const ratio = (v: number) => v.toLocaleString('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const whole = (n: number) => n.toLocaleString('en-GB');
const STATUS: Record<string, string> = {
  'no-obligation': 'No obligation',
  compliant: 'Compliant',
  'compliant-by-buy-out': 'Compliant by buy-out',
  outstanding: 'Buy-out outstanding',
};

describe.each(engines())('PDF documents from the demo year on %s', (engine) => {
  let w: DemoWorld;
  let documents: DocumentService;
  let auditor: string;
  beforeAll(async () => {
    documents = createDocumentService({ concurrency: 2 });
    w = await demoWorld(engine, documents, { credits: true });
    auditor = await w.t.userToken({ name: 'Auditor', role: 'auditor' });
  }, 180_000);
  afterAll(async () => {
    await documents.renderer.close();
    await w.t.destroy();
  });

  const pdf = async (path: string, token = w.t.treasury) => {
    const r = await w.t.app.request(path, { headers: { authorization: `Bearer ${token}` } });
    expect(r.status, path).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/pdf');
    const read = await readPdf(new Uint8Array(await r.arrayBuffer()));
    expect(read.tagged, `${path} is a tagged PDF`).toBe(true);
    expect(read.pages).toBeGreaterThanOrEqual(1);
    expect(read.pages).toBeLessThanOrEqual(20);
    expect(read.text).toMatch(new RegExp(`Page 1 of ${read.pages}`));
    return read;
  };
  const json = async (path: string, token = w.t.treasury) => {
    const r = await w.t.request('GET', path, { token });
    expect(r.status, path).toBe(200);
    return r.body;
  };
  const approved = () => w.played.cases.filter((c) => c.demo.expectedOutcome === 'approve');

  it('renders a business case with the figures of its appraisal, its decision and an outline of its sections', async () => {
    const c = approved()[0] as DemoWorld['played']['cases'][number];
    const [kase, appraisal] = await Promise.all([json(`/api/v1/cases/${c.id}`), json(`/api/v1/cases/${c.id}/appraisal`)]);
    const read = await pdf(`/api/v1/cases/${c.id}/pdf`);
    expect(read.pages).toBeGreaterThanOrEqual(3);
    for (const s of [
      kase.reference,
      kase.title,
      money(kase.requestedPence),
      money(kase.totalCostsPence),
      money(appraisal.pvCostsPence),
      money(appraisal.pvBenefitsPence.fiscal),
      money(appraisal.fiscalNpvPence),
      money(appraisal.publicValueNpvPence),
      ratio(appraisal.bcr),
      appraisal.paybackYear,
      appraisal.parameterSet.name,
      `Panel outcome: Approved, ${money(kase.decisions.at(-1).amountPence)}`,
      ...appraisal.whoBenefits.map((x: { pvPence: number }) => money(x.pvPence)),
    ]) {
      expect(read.text, s).toContain(s.replace(/\s+/g, ' '));
    }
    // The stored appraisal's sensitivity, row by row as the appraisal API gives it.
    expect(appraisal.sensitivity).toHaveLength(4);
    for (const x of appraisal.sensitivity as { label: string; fiscalNpvPence: number; bcr: number | null }[]) {
      const row = `${x.label} ${money(x.fiscalNpvPence)} ${x.bcr === null ? 'n/a' : ratio(x.bcr)}`;
      expect(read.text, row).toContain(row.replace(/\s+/g, ' '));
    }
    for (const h of ['The strategic case', 'The economic case', 'Who benefits', 'Switching values', 'Sensitivity', 'Parameters used']) {
      expect(read.outline, h).toContain(h);
    }
  });

  it('renders decision letters: an award with its tranches, and a rejection with its reasons', async () => {
    const c = approved()[1] as DemoWorld['played']['cases'][number];
    const [tranches, decisions] = await Promise.all([json(`/api/v1/cases/${c.id}/tranches`), json(`/api/v1/cases/${c.id}/decisions`)]);
    const read = await pdf(`/api/v1/cases/${c.id}/decision-letter.pdf`, c.council);
    expect(read.text).toContain(`approved an award of ${money(decisions.at(-1).amountPence)}`);
    for (const t of tranches) {
      expect(read.text).toContain(money(t.amountPence));
      expect(read.text).toContain(t.condition.replace(/\s+/g, ' '));
    }
    expect(read.outline).toEqual(expect.arrayContaining(['Tranche schedule', 'Clawback']));

    const rejected = w.played.cases.find((x) => x.demo.expectedOutcome === 'reject') as DemoWorld['played']['cases'][number];
    const reasons = (await json(`/api/v1/cases/${rejected.id}/decisions`)).at(-1).reasons as string;
    const letter = await pdf(`/api/v1/cases/${rejected.id}/decision-letter.pdf`, rejected.council);
    expect(letter.text).toContain('has not approved it');
    expect(letter.text).toContain(
      reasons
        .split(/\n\s*\n/)[0]
        ?.replace(/\s+/g, ' ')
        .trim(),
    );
  });

  it('renders the fund statement with the fund position, the buy-outs from the ledger and the verification', async () => {
    const fund = await json('/api/v1/fund?fy=2026-27');
    const verify = await json('/api/v1/ledger/verify', auditor);
    const read = await pdf('/api/v1/reports/fund-statement.pdf?fy=2026-27', auditor);
    for (const k of ['contributedPence', 'releasedPence', 'balancePence', 'committedPence', 'availablePence', 'otherReceiptsPence']) {
      expect(read.text, k).toContain(money(fund[k]));
    }
    for (const c of fund.contributions) expect(read.text).toContain(money(c.amountPence));
    const compliance = await json('/api/v1/financial-years/2026-27/compliance');
    expect(compliance.totals.buyOutPaidPence).toBeGreaterThan(0);
    expect(read.text).toContain(`Total buy-outs received ${money(compliance.totals.buyOutPaidPence)}`);
    expect(verify.ok).toBe(true);
    expect(read.text).toContain('The ledger and the audit chain verify.');
    expect(read.text).toContain(`${verify.audit.entries} entries, intact`);
    expect(read.outline).toEqual(
      expect.arrayContaining(['Contributions by department', 'Releases by place', 'Buy-outs received', 'Verification']),
    );
  });

  it('renders the realised-benefits review with the totals the benefits API gives, for each reader', async () => {
    const all = await json('/api/v1/benefits?fy=2026-27');
    const read = await pdf('/api/v1/reports/realised-benefits.pdf?fy=2026-27');
    expect(read.text).toContain(`Forecast ${money(all.totals.forecastPence)}`);
    expect(read.text).toContain(`Verified ${money(all.totals.verifiedPence)}`);
    expect(read.text).toContain('Every approved case.');
    expect(read.text).toContain(`Claimed by councils (verified or awaiting verification) ${money(all.totals.claimedPence)}`);
    expect(read.text).toContain('RB-2026-27');
    expect(read.outline).toEqual(expect.arrayContaining(['By department', 'By place', 'By theme']));

    const dhsc = await w.t.userToken({ name: 'DHSC reader', role: 'department', organisationCode: 'DHSC' });
    const own = await json('/api/v1/benefits?fy=2026-27', dhsc);
    const theirs = await pdf('/api/v1/reports/realised-benefits.pdf?fy=2026-27', dhsc);
    expect(theirs.text).toContain('Benefits attributed to Department of Health and Social Care only.');
    expect(theirs.text).toContain(`Verified ${money(own.totals.verifiedPence)}`);
    // A reader's copy is a different document from treasury's, with its own reference.
    expect(theirs.text).toContain('RB-2026-27-DHSC');
  });

  it('renders a place report: its cases, releases and savings by department', async () => {
    const c = approved()[0] as DemoWorld['played']['cases'][number];
    const kase = await json(`/api/v1/cases/${c.id}`);
    const award = await json(`/api/v1/cases/${c.id}/award`);
    const council = await w.t.userToken({ name: 'Another council', role: 'council', organisationCode: 'GATESHEAD' });
    const read = await pdf(`/api/v1/places/${kase.placeCode}/report.pdf?fy=2026-27`, council);
    expect(read.text).toContain(kase.reference);
    expect(read.text).toContain(`Awarded to cases here ${money(award.awardPence)}`);
    expect(read.text).toContain(`Released ${money(award.releasedPence)}`);
    expect(read.outline).toEqual(expect.arrayContaining(['Money in and savings out', 'Cases', 'Releases', 'Savings by department']));
    // A council may not read a place's disposals, so its copy says so instead of showing them.
    expect(read.text).toContain('Disposals against the pooled target are shown to treasury, auditors, the panel and departments.');
  });

  it("adds the disposals against a place's pooled target for those who may read them", async () => {
    const dept = await w.t.userToken({ name: 'DWP reader', role: 'department', organisationCode: 'DWP' });
    const disposals = await json('/api/v1/places/BRADFORD/disposals?fy=2026-27', dept);
    expect(disposals.disposals.length).toBeGreaterThan(0);
    const read = await pdf('/api/v1/places/BRADFORD/report.pdf?fy=2026-27', dept);
    expect(read.outline).toContain('Asset disposals against the pooled target');
    expect(read.text).toContain(`Pooled target ${money(disposals.pooledTargetPence)}`);
    expect(read.text).toContain(`Receipts from disposals ${money(disposals.receiptsPence)}`);
    // Status tags are set in capitals.
    expect(read.text).toContain(`Status ${disposals.met ? 'MET' : 'NOT YET MET'}`);
    for (const d of disposals.departments) expect(read.text).toContain(`${money(d.targetPence)} ${money(d.receiptsPence)}`);
    for (const d of disposals.disposals) expect(read.text).toContain(`${d.asset}`);
    for (const d of disposals.disposals) expect(read.text).toContain(money(d.receiptPence));
  });

  it('renders the credits and compliance report with the figures of the credits API', async () => {
    const fy = '2026-27';
    const [close, compliance, trades, market] = await Promise.all([
      json(`/api/v1/financial-years/${fy}/close`, auditor),
      json(`/api/v1/financial-years/${fy}/compliance`, auditor),
      json(`/api/v1/credits/trades?fy=${fy}`, auditor),
      json(`/api/v1/financial-years/${fy}/credit-market`, auditor),
    ]);
    const read = await pdf(`/api/v1/reports/credits.pdf?fy=${fy}`, auditor);
    expect(read.outline).toEqual(
      expect.arrayContaining([
        'Targets and achievement',
        'Credits issued and their provenance',
        'Market prices and trades',
        'Surrenders',
        'Buy-outs',
        'Compliance status',
      ]),
    );
    const status = new Map(compliance.results.map((r: { departmentCode: string; status: string }) => [r.departmentCode, r.status]));
    for (const d of close.departments) {
      const row = `${d.departmentCode} ${money(d.savingsTargetPence)} ${money(d.verifiedCashablePence)} ${money(d.verifiedOtherPence)} ${whole(d.creditsIssued)} ${whole(d.obligationCredits)} ${STATUS[status.get(d.departmentCode) as string]?.toUpperCase()}`;
      expect(read.text, row).toContain(row);
    }
    expect(read.text).toContain(`Total ${whole(close.totals.creditsIssued)} ${whole(close.totals.obligationCredits)}`);

    const issuer = close.departments.find((d: { creditsIssued: number }) => d.creditsIssued > 0);
    const issuance = await json(`/api/v1/financial-years/${fy}/departments/${issuer.departmentCode}/credit-issuance`, auditor);
    expect(read.text).toContain(`${whole(issuance.creditsIssued)} credits issued`);
    for (const l of issuance.provenance) expect(read.text).toContain(`${l.caseReference}`);
    for (const l of issuance.provenance) expect(read.text).toContain(`${l.reportId} ${money(l.verifiedPence)}`);
    expect(read.text).toContain(`ledger transfer ${issuance.transferId} ${money(issuance.verifiedCashablePence)}`);

    expect(read.text).toContain(`Floor price per credit ${money(market.prices.floorPence)}`);
    expect(read.text).toContain(`Ceiling (buy-out) price per credit ${money(market.prices.ceilingPence)}`);
    expect(trades.trades.length).toBeGreaterThanOrEqual(2);
    expect(read.text).toContain(
      `Trades in the year ${trades.market.trades}, ${whole(trades.market.volume)} credits, ${money(trades.market.valuePence)}`,
    );
    expect(read.text).toContain(`Volume-weighted average price ${money(trades.market.vwapPence)}`);
    for (const t of trades.trades) {
      expect(read.text).toContain(`${t.sellerCode} ${t.buyerCode} ${t.vintage}`);
      expect(read.text).toContain(`${whole(t.quantity)} ${money(t.pricePence)} ${money(t.valuePence)}`);
    }

    const surrendered = compliance.results.flatMap((r: { surrendered: { credits: number; transferId: string }[] }) => r.surrendered);
    expect(surrendered.length).toBeGreaterThan(0);
    for (const x of surrendered) expect(read.text).toContain(`${x.transferId} ${whole(x.credits)}`);
    expect(read.text).toContain(`Total surrendered ${whole(compliance.totals.surrenderedCredits)}`);
    for (const r of compliance.results.filter((x: { shortfallCredits: number }) => x.shortfallCredits > 0)) {
      expect(read.text).toContain(
        `${whole(r.shortfallCredits)} ${money(r.buyOutDuePence)} ${money(r.buyOutPaidPence)} ${money(r.buyOutOutstandingPence)}`,
      );
    }
    expect(read.text).toContain(`Total ${money(compliance.totals.buyOutPaidPence)} ${money(compliance.totals.buyOutOutstandingPence)}`);
  });

  it('shows each reader of the credits report what the credits API shows them', async () => {
    const fy = '2026-27';
    const close = await json(`/api/v1/financial-years/${fy}/close`);
    const [owing, other] = close.departments.filter((d: { obligationCredits: number }) => d.obligationCredits > 0);
    const dept = await w.t.userToken({ name: 'Credits desk', role: 'department', organisationCode: owing.departmentCode });
    const own = await json(`/api/v1/credits/trades?fy=${fy}`, dept);
    const theirs = await pdf(`/api/v1/reports/credits.pdf?fy=${fy}`, dept);
    expect(theirs.text).toContain(`${owing.departmentCode} ${money(owing.savingsTargetPence)}`);
    expect(theirs.text).not.toContain(`${other.departmentCode} ${money(other.savingsTargetPence)}`);
    expect(theirs.text).toContain(`Trades in the year ${own.market.trades},`);
    for (const t of own.trades) expect(theirs.text).toContain(`${t.sellerCode} ${t.buyerCode}`);

    const panel = await w.t.userToken({ name: 'Panel reader', role: 'panel' });
    const forPanel = await pdf(`/api/v1/reports/credits.pdf?fy=${fy}`, panel);
    expect(forPanel.text).toContain('The trades themselves are shown to treasury, auditors and departments.');
    expect(forPanel.text).not.toContain('Trades in the year');
    expect(forPanel.text).toContain(`CR-${fy}-NO-TRADES`);

    const council = await w.t.userToken({ name: 'A council', role: 'council', organisationCode: 'GATESHEAD' });
    expect((await w.t.request('GET', `/api/v1/reports/credits.pdf?fy=${fy}`, { token: council })).status).toBe(403);
    await w.api(w.t.treasury, 'POST', '/api/v1/financial-years', { name: '2027-28' }, 201);
    const open = await w.t.request('GET', '/api/v1/reports/credits.pdf?fy=2027-28');
    expect(open.status).toBe(404);
    expect(open.body.type).toBe('/problems/year-close-not-found');
  });

  it('prints a hostile case title as text', async () => {
    const fixture = demoCases()[0] as ReturnType<typeof demoCases>[number];
    const roundId = (await json('/api/v1/rounds'))[0].id;
    const token = await w.t.userToken({ name: 'Drafting council', role: 'council', organisationCode: fixture.demo.lead });
    const title = 'Care <script>alert("x")</script> at home </table> {{title}} {{{narrative}}}';
    const draft = await w.t.request('POST', '/api/v1/cases', { token, body: { ...fixture.body, roundId, title } });
    expect(draft.status, draft.text).toBe(201);
    const read = await pdf(`/api/v1/cases/${draft.body.id}/pdf`, token);
    expect(read.text).toContain(title);
    expect(read.text).toContain('Not yet submitted (draft)');
  });

  it('follows the data: a council reads only its own cases and letters; a decision letter needs a decision', async () => {
    const [mine, other] = approved() as [DemoWorld['played']['cases'][number], DemoWorld['played']['cases'][number]];
    for (const path of [`/api/v1/cases/${other.id}/pdf`, `/api/v1/cases/${other.id}/decision-letter.pdf`]) {
      const r = await w.t.request('GET', path, { token: mine.council });
      expect(r.status, path).toBe(404);
      expect(r.headers.get('content-type')).toBe('application/problem+json');
    }
    const fixture = demoCases()[1] as ReturnType<typeof demoCases>[number];
    const token = await w.t.userToken({ name: 'Drafting council', role: 'council', organisationCode: fixture.demo.lead });
    const roundId = (await json('/api/v1/rounds'))[0].id;
    const draft = await w.t.request('POST', '/api/v1/cases', { token, body: { ...fixture.body, roundId } });
    const letter = await w.t.request('GET', `/api/v1/cases/${draft.body.id}/decision-letter.pdf`, { token });
    expect(letter.status).toBe(409);
    expect(letter.body.type).toBe('/problems/no-decision');
    expect((await w.t.request('GET', '/api/v1/reports/fund-statement.pdf?fy=2031-32')).status).toBe(404);
    expect((await w.t.request('GET', '/api/v1/reports/fund-statement.pdf')).body.errors[0].parameter).toBe('fy');
    expect((await w.t.request('GET', '/api/v1/places/NOWHERE/report.pdf?fy=2026-27')).status).toBe(404);
  });

  it("renders from the operators' CLI to a directory, and explains its usage", async () => {
    const out = mkdtempSync(join(tmpdir(), 'topslice-render-'));
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const db = w.t.database.db;
      expect(await renderCommand(db, documents, ['fund-statement', '2026-27', '--out', out])).toBe(0);
      const file = join(out, 'fund-statement-2026-27.pdf');
      expect(existsSync(file)).toBe(true);
      expect((await readPdf(new Uint8Array(readFileSync(file)))).text).toContain('Prevention fund statement 2026-27');
      const reference = (w.played.cases[0] as DemoWorld['played']['cases'][number]).reference;
      expect(await renderCommand(db, documents, ['decision-letter', reference, '--out', out])).toBe(0);
      expect(await renderCommand(db, documents, ['credits', '2026-27', '--out', out])).toBe(0);
      expect((await readPdf(new Uint8Array(readFileSync(join(out, 'credits-2026-27.pdf'))))).text).toContain(
        'Savings credits and compliance 2026-27',
      );
      expect(existsSync(join(out, `${reference}-decision-letter.pdf`))).toBe(true);
      expect(await renderCommand(db, documents, ['place-report', 'BRADFORD', '--out', out])).toBe(2);
      expect(await renderCommand(db, documents, ['round', 'no-such-round', '--out', out])).toBe(1);
      expect(error.mock.calls.flat().join('\n')).toContain('render place-report <place code> <fy>');
      // Every usage error is named and exits 2 before anything is made; a directory that cannot be used exits 1.
      const usageErrors: [string[], string][] = [
        [['credits', '2026-27', '--outt', 'x'], 'Unknown option for render: --outt.'],
        [['credits', '2026-27', 'extra-junk'], 'got 2026-27 extra-junk'],
        [['fund-statement', '2026-28'], '2026-28 is not a financial year'],
        [['nonsense'], 'Unknown document: nonsense.'],
        [['credits', '2026-27', '--out'], '--out needs a directory.'],
      ];
      for (const [argv, said] of usageErrors) {
        error.mockClear();
        expect(await renderCommand(db, documents, argv), argv.join(' ')).toBe(2);
        expect(error.mock.calls.flat().join('\n')).toContain(said);
      }
      for (const [dir, said] of [
        [file, 'is not a directory'],
        ['/proc/topslice-nope', 'Cannot write to /proc/topslice-nope'],
      ] as const) {
        error.mockClear();
        expect(await renderCommand(db, documents, ['fund-statement', '2026-27', '--out', dir])).toBe(1);
        expect(error.mock.calls.flat().join('\n')).toContain(said);
      }
    } finally {
      log.mockRestore();
      error.mockRestore();
      rmSync(out, { recursive: true, force: true });
    }
  });
});
