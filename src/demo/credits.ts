import { formatCredits, formatPence } from '../lib/money.ts';

/*
 * The demo's year end: treasury closes the year (credits for a department that beat its
 * target, obligations for those that fell short), departments trade on the book and
 * bilaterally, departments record asset disposals in two places, treasury runs compliance
 * (surrenders and buy-outs into the fund), and each department's position is printed.
 */

// biome-ignore lint/suspicious/noExplicitAny: the demo reads response fields by name
type Api = (token: string, method: string, path: string, body: unknown, expected: number, headers?: Record<string, string>) => Promise<any>;
// biome-ignore lint/suspicious/noExplicitAny: JSON rows
type Json = any;

const credits = formatCredits;

export async function playCredits(
  api: Api,
  treasury: string,
  fy: string,
  step: (t: string) => void,
  say: (l: string) => void,
  /** The date the disposals are made on (YYYY-MM-DD). */
  today = new Date().toISOString().slice(0, 10),
): Promise<void> {
  step(`Year end: verified cashable savings for ${fy} against each department's target`);
  const realised = await api(treasury, 'GET', `/api/v1/benefits?fy=${fy}`, undefined, 200);
  const cashable = new Map<string, bigint>();
  for (const r of realised.rows as Json[]) {
    if (r.type !== 'fiscal' || !r.cashable || !r.departmentCode) continue;
    cashable.set(r.departmentCode, (cashable.get(r.departmentCode) ?? 0n) + BigInt(r.verifiedPence));
  }
  const [surplus] = [...cashable.entries()].sort((a, b) => (b[1] > a[1] ? 1 : b[1] < a[1] ? -1 : 0));
  if (!surplus || surplus[1] === 0n) throw new Error('the demo year has no verified cashable savings to close on');
  const [seller, verified] = surplus;
  const settings = await api(treasury, 'GET', `/api/v1/financial-years/${fy}/departments/${seller}`, undefined, 200);
  if (BigInt(settings.savingsTargetPence) >= verified) {
    // Whole pounds, 80% of what was verified: the department beat its revised target by a fifth.
    const revised = ((verified * 8n) / 10n / 100n) * 100n;
    await api(
      treasury,
      'PUT',
      `/api/v1/financial-years/${fy}/departments/${seller}`,
      { baselinePence: settings.baselinePence, topSliceBasisPoints: settings.topSliceBasisPoints, savingsTargetPence: Number(revised) },
      200,
    );
    say(
      `Treasury revises ${seller}'s savings target from ${formatPence(BigInt(settings.savingsTargetPence))} to ${formatPence(revised)} before close`,
    );
  }

  step(`Treasury closes ${fy}`);
  const close = await api(treasury, 'POST', `/api/v1/financial-years/${fy}/close`, undefined, 201, { 'idempotency-key': `close-${fy}` });
  for (const d of close.departments as Json[]) {
    const outcome =
      d.creditsIssued > 0
        ? `issued ${credits(d.creditsIssued)}`
        : d.obligationCredits > 0
          ? `owes ${credits(d.obligationCredits)}`
          : 'met its target exactly';
    say(
      `${d.departmentCode.padEnd(6)} verified ${formatPence(BigInt(d.verifiedCashablePence)).padStart(16)} vs target ${formatPence(BigInt(d.savingsTargetPence)).padStart(16)}: ${outcome}`,
    );
  }
  const again = await api(treasury, 'POST', `/api/v1/financial-years/${fy}/close`, undefined, 200);
  say(`Closed again: ${again.totals.creditsIssued === close.totals.creditsIssued ? 'the same result, nothing new issued' : 'DIFFERENT'}`);
  const provenance = await api(treasury, 'GET', `/api/v1/financial-years/${fy}/departments/${seller}/credit-issuance`, undefined, 200);
  for (const p of (provenance.provenance as Json[]).slice(0, 3)) {
    say(
      `provenance of ${seller}'s ${fy} credits: ${p.caseReference} (${p.placeCode}) line ${p.benefitLineIndex}, report ${p.reportId.slice(0, 8)}…, ${formatPence(BigInt(p.verifiedPence))}`,
    );
  }
  const owing = (close.departments as Json[])
    .filter((d) => d.obligationCredits > 0)
    .sort((a, b) => b.obligationCredits - a.obligationCredits);
  const [buyer, second] = owing.map((d) => d.departmentCode as string);
  if (!buyer || !second) throw new Error('the demo needs two departments with obligations');

  step('Treasury sets the market: floor 50p, ceiling (buy-out) £1.20 per credit');
  await api(treasury, 'PUT', `/api/v1/financial-years/${fy}/credit-market`, { floorPence: 50, ceilingPence: 120 }, 201);
  const desk: Record<string, string> = {};
  for (const code of [seller, buyer, second]) {
    desk[code] = (
      await api(treasury, 'POST', '/api/v1/users', { name: `${code} credits desk`, role: 'department', organisationCode: code }, 201)
    ).token;
  }
  const issued = BigInt(provenance.creditsIssued);
  const lot = (share: bigint) => Number((issued * share) / 100n > 0n ? (issued * share) / 100n : 1n);

  step('Trading on the order book (price, then time; the trade is at the resting order’s price)');
  const bid = await api(
    desk[buyer] as string,
    'POST',
    '/api/v1/credits/orders',
    { financialYear: fy, side: 'buy', quantity: lot(30n), limitPricePence: 110 },
    201,
  );
  say(
    `${buyer} bids for ${credits(bid.order.quantity)} at 110p: resting, ${formatPence(BigInt(bid.order.quantity) * 110n)} reserved on the ledger`,
  );
  const low = await api(
    desk[second] as string,
    'POST',
    '/api/v1/credits/orders',
    { financialYear: fy, side: 'buy', quantity: lot(10n), limitPricePence: 90 },
    201,
  );
  say(`${second} bids for ${credits(low.order.quantity)} at 90p: resting`);
  const ask = await api(
    desk[seller] as string,
    'POST',
    '/api/v1/credits/orders',
    { financialYear: fy, side: 'sell', quantity: lot(20n), limitPricePence: 100 },
    201,
  );
  for (const f of ask.fills as Json[])
    say(
      `${seller} offers ${credits(ask.order.quantity)} at 100p: matched ${credits(f.quantity)} with ${f.counterpartyCode} at ${formatPence(BigInt(f.pricePence))} (the resting price)`,
    );
  const self = await api(
    desk[buyer] as string,
    'POST',
    '/api/v1/credits/orders',
    { financialYear: fy, side: 'sell', quantity: 1, limitPricePence: 100 },
    422,
  );
  say(`${buyer} tries to sell into its own bid: ${self.title}`);
  const rest = await api(
    desk[seller] as string,
    'POST',
    '/api/v1/credits/orders',
    { financialYear: fy, side: 'sell', quantity: lot(10n), limitPricePence: 115 },
    201,
  );
  say(`${seller} offers ${credits(rest.order.quantity)} at 115p: no bid that high, so it rests (its credits reserved)`);
  await api(desk[second] as string, 'POST', `/api/v1/credits/orders/${low.order.id}/cancel`, {}, 200);
  say(`${second} cancels its 90p bid; its reserved cash is released`);

  step('A bilateral trade, settled delivery-versus-payment when accepted');
  const offer = await api(
    desk[seller] as string,
    'POST',
    '/api/v1/credits/bilateral-trades',
    { financialYear: fy, counterpartyCode: second, side: 'sell', vintage: fy, quantity: lot(15n), pricePence: 105 },
    201,
  );
  say(`${seller} proposes ${credits(offer.quantity)} of vintage ${fy} to ${second} at 105p, open until ${offer.expiresAt.slice(0, 10)}`);
  const accepted = await api(desk[second] as string, 'POST', `/api/v1/credits/bilateral-trades/${offer.id}/accept`, {}, 200);
  say(`${second} accepts: trade ${accepted.tradeId.slice(0, 8)}… — credits and cash moved in one linked chain`);
  const trades = await api(treasury, 'GET', `/api/v1/credits/trades?fy=${fy}`, undefined, 200);
  for (const t of trades.trades as Json[])
    say(
      `trade: ${t.sellerCode} → ${t.buyerCode}  ${credits(t.quantity)} at ${formatPence(BigInt(t.pricePence))}  (${t.bilateralId ? 'bilateral' : 'order book'})`,
    );
  say(
    `${trades.market.trades} trades, ${credits(trades.market.volume)}, volume-weighted average price ${trades.market.vwapPence === null ? 'none' : formatPence(BigInt(trades.market.vwapPence))}`,
  );

  step('Pooled asset disposals in two places');
  for (const [place, targets] of [
    [
      'BRADFORD',
      [
        [seller, 2_500_000_00],
        [buyer, 1_500_000_00],
      ],
    ],
    [
      'LEWISHAM',
      [
        [buyer, 1_000_000_00],
        [second, 1_000_000_00],
      ],
    ],
  ] as const) {
    for (const [code, targetPence] of targets) {
      await api(treasury, 'PUT', `/api/v1/places/${place}/disposal-targets`, { financialYear: fy, departmentCode: code, targetPence }, 200);
    }
  }
  const sold: [string, string, string, number][] = [
    ['BRADFORD', seller, 'Surplus office, Manningham Lane', 3_100_000_00],
    ['BRADFORD', buyer, 'Former depot, Manor Row', 1_200_000_00],
    ['LEWISHAM', second, 'Surplus office, Catford', 700_000_00],
  ];
  for (const [place, code, asset, receiptPence] of sold) {
    await api(desk[code] as string, 'POST', `/api/v1/places/${place}/disposals`, { asset, receiptPence, disposedOn: today }, 201);
  }
  for (const place of ['BRADFORD', 'LEWISHAM']) {
    const p = await api(treasury, 'GET', `/api/v1/places/${place}/disposals?fy=${fy}`, undefined, 200);
    const parts = (p.departments as Json[])
      .map((d) => `${d.departmentCode} ${formatPence(BigInt(d.receiptsPence))}/${formatPence(BigInt(d.targetPence))}`)
      .join(', ');
    say(
      `${place.padEnd(9)} pooled target ${formatPence(BigInt(p.pooledTargetPence))}, receipts ${formatPence(BigInt(p.receiptsPence))}: ${p.met ? 'met together' : 'not yet met'} (${parts})`,
    );
  }

  step(`Treasury runs compliance for ${fy}: surrender oldest vintage first, buy out the rest at the ceiling`);
  const fundBefore = await api(treasury, 'GET', `/api/v1/fund?fy=${fy}`, undefined, 200);
  const run = await api(treasury, 'POST', `/api/v1/financial-years/${fy}/compliance`, undefined, 201, {
    'idempotency-key': `compliance-${fy}`,
  });
  for (const r of run.results as Json[]) {
    const detail =
      r.obligationCredits === 0
        ? ''
        : `: surrendered ${credits(r.surrenderedCredits)}, bought out ${credits(r.shortfallCredits)} for ${formatPence(BigInt(r.buyOutPaidPence))}${r.buyOutOutstandingPence > 0 ? `, ${formatPence(BigInt(r.buyOutOutstandingPence))} outstanding` : ''}`;
    say(`${r.departmentCode.padEnd(6)} ${r.status}${detail}`);
  }
  const fundAfter = await api(treasury, 'GET', `/api/v1/fund?fy=${fy}`, undefined, 200);
  say(
    `The fund refilled by buy-outs: available ${formatPence(BigInt(fundBefore.availablePence))} → ${formatPence(BigInt(fundAfter.availablePence))}`,
  );
  const repeat = await api(treasury, 'POST', `/api/v1/financial-years/${fy}/compliance`, undefined, 200);
  say(
    `Compliance run again: ${repeat.totals.buyOutPaidPence === run.totals.buyOutPaidPence ? 'the same result, nothing moved' : 'DIFFERENT'}`,
  );

  step("Each department's position");
  for (const d of close.departments as Json[]) {
    const p = await api(treasury, 'GET', `/api/v1/departments/${d.departmentCode}/position?fy=${fy}`, undefined, 200);
    const held = (p.credits as Json[]).reduce((s, c) => s + c.held, 0);
    const status = (p.obligations as Json[])[0]?.status ?? 'no-obligation';
    say(
      `${d.departmentCode.padEnd(6)} top-slice ${formatPence(BigInt(p.topSlicePaidPence)).padStart(14)}  savings ${formatPence(BigInt(p.verifiedSavings.cashablePence)).padStart(14)}  credits held ${formatCredits(held).padStart(17)}  buy-outs ${formatPence(BigInt(p.buyOuts.paidPence)).padStart(14)}  ${status}`,
    );
  }
}
