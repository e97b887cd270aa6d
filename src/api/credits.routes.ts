import { z } from '@hono/zod-openapi';
import { getCompliance, runCompliance } from '../compliance/compliance.ts';
import { closeYear, getYearClose, issuanceWithProvenance } from '../credits/close.ts';
import { departmentPosition } from '../credits/position.ts';
import { assertMayRead } from '../credits/registry.ts';
import { getFinancialYear } from '../fund/fund.ts';
import { ownDepartmentScope } from '../fund/visibility.ts';
import type { Deps } from '../http/context.ts';
import { acting, apiRoute, createRouter, errorResponses, jsonBody, jsonContent } from '../http/router.ts';
import { toJson } from '../lib/money.ts';
import {
  acceptBilateral,
  declineBilateral,
  getBilateral,
  listBilaterals,
  proposeBilateral,
  withdrawBilateral,
} from '../market/bilateral.ts';
import { cancelOrder, getOrder, listOrders, placeOrder } from '../market/orders.ts';
import { marketState, setMarketPrices } from '../market/prices.ts';
import { listTrades } from '../market/trades.ts';
import { actorOf, type Principal } from '../users/users.ts';
import { FinancialYearName, IdParam, OrganisationCode, Pence, says } from './schemas.ts';

const READERS = ['treasury', 'auditor', 'panel', 'department'] as const;
const MARKET_READERS = ['treasury', 'auditor', 'department'] as const;

const FyParam = z.object({ fy: FinancialYearName });
const FyQuery = z.object({ fy: FinancialYearName });
const Credits = z.int().openapi({ description: 'Whole savings credits (one credit is £1 of verified saving above target).' });
const Quantity = z
  .int({ error: says('must be a whole number of credits') })
  .min(1, { error: says('must be at least 1 credit') })
  .max(1_000_000_000, { error: says('must be at most 1,000,000,000 credits') });
const PricePerCredit = z
  .int({ error: says('must be a whole number of pence per credit') })
  .min(1, { error: says('must be at least 1p') })
  .max(1_000_000_00, { error: says('must be at most £1,000,000 per credit') })
  .openapi({ description: 'Pence per credit.', example: 95 });
const Side = z.enum(['buy', 'sell'], { error: says('must be buy or sell') });

const OutcomeSchema = z.object({
  departmentCode: z.string(),
  savingsTargetPence: Pence,
  verifiedCashablePence: Pence,
  verifiedOtherPence: Pence,
  creditsIssued: Credits,
  obligationCredits: Credits,
  issuanceTransferId: z.string().nullable(),
  provenanceReports: z.int(),
});
const YearCloseSchema = z
  .object({
    financialYear: z.string(),
    closedAt: z.string(),
    closedBy: z.string(),
    departments: z.array(OutcomeSchema),
    totals: z.object({ creditsIssued: Credits, obligationCredits: Credits }),
  })
  .openapi('YearClose');

const ProvenanceSchema = z
  .object({
    financialYear: z.string(),
    departmentCode: z.string(),
    creditsIssued: Credits,
    obligationCredits: Credits,
    verifiedCashablePence: Pence,
    savingsTargetPence: Pence,
    transferId: z.string().nullable(),
    provenance: z.array(
      z.object({
        reportId: z.string(),
        caseId: z.string(),
        caseReference: z.string(),
        placeCode: z.string(),
        benefitLineIndex: z.int(),
        verifiedPence: Pence,
      }),
    ),
  })
  .openapi('CreditIssuance');

const OrderSchema = z
  .object({
    id: z.string(),
    seq: z.int(),
    financialYear: z.string(),
    departmentCode: z.string(),
    side: Side,
    vintage: z.string().nullable(),
    quantity: Credits,
    filled: Credits,
    remaining: Credits,
    limitPricePence: Pence,
    status: z.enum(['open', 'filled', 'cancelled', 'expired']),
    reservationId: z.string().nullable().openapi({ description: 'The pending ledger transfer reserving what rests.' }),
    placedBy: z.string(),
    placedAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('CreditOrder');
const FillSchema = z.object({
  tradeId: z.string(),
  restingOrderId: z.string(),
  counterpartyCode: z.string(),
  vintage: z.string(),
  quantity: Credits,
  pricePence: Pence,
});

const BilateralSchema = z
  .object({
    id: z.string(),
    financialYear: z.string(),
    proposerCode: z.string(),
    counterpartyCode: z.string(),
    proposerSide: Side,
    sellerCode: z.string(),
    buyerCode: z.string(),
    vintage: z.string(),
    quantity: Credits,
    pricePence: Pence,
    status: z.enum(['proposed', 'accepted', 'declined', 'withdrawn', 'expired']),
    expiresAt: z.string(),
    proposedBy: z.string(),
    proposedAt: z.string(),
    resolvedBy: z.string().nullable(),
    resolvedAt: z.string().nullable(),
    tradeId: z.string().nullable(),
  })
  .openapi('BilateralTrade');

const TradeSchema = z.object({
  id: z.string(),
  seq: z.int(),
  financialYear: z.string(),
  vintage: z.string(),
  quantity: Credits,
  pricePence: Pence,
  valuePence: Pence,
  buyerCode: z.string(),
  sellerCode: z.string(),
  buyOrderId: z.string().nullable(),
  sellOrderId: z.string().nullable(),
  bilateralId: z.string().nullable(),
  creditsTransferId: z.string(),
  cashTransferId: z.string(),
  executedAt: z.string(),
});
const TradeListSchema = z
  .object({
    financialYear: z.string(),
    trades: z.array(TradeSchema),
    market: z.object({
      trades: z.int(),
      volume: Credits,
      valuePence: Pence,
      vwapPence: Pence.nullable().openapi({
        description: 'Σ(price × quantity) ÷ Σ quantity over all the year’s trades, half-up to the penny',
      }),
    }),
  })
  .openapi('CreditTrades');

const ComplianceResultSchema = z.object({
  financialYear: z.string(),
  departmentCode: z.string(),
  obligationCredits: Credits,
  surrendered: z.array(z.object({ vintage: z.string(), credits: Credits, transferId: z.string() })),
  surrenderedCredits: Credits,
  shortfallCredits: Credits,
  buyOutDuePence: Pence,
  buyOutPaidPence: Pence,
  buyOutOutstandingPence: Pence,
  buyOutTransferId: z.string().nullable(),
  status: z.enum(['no-obligation', 'compliant', 'compliant-by-buy-out', 'outstanding']),
});
const ComplianceSchema = z
  .object({
    financialYear: z.string(),
    ranAt: z.string(),
    ranBy: z.string(),
    ceilingPence: Pence,
    results: z.array(ComplianceResultSchema),
    totals: z.object({ surrenderedCredits: Credits, buyOutPaidPence: Pence, buyOutOutstandingPence: Pence }),
  })
  .openapi('ComplianceRun');

const MarketSchema = z
  .object({
    financialYear: z.string(),
    status: z.enum(['not-open', 'open', 'closed']),
    prices: z
      .object({ financialYear: z.string(), floorPence: Pence, ceilingPence: Pence, updatedBy: z.string(), updatedAt: z.string() })
      .nullable(),
    book: z.array(z.object({ side: Side, pricePence: Pence, quantity: Credits, orders: z.int() })),
  })
  .openapi('CreditMarket');

const PositionSchema = z
  .object({
    departmentCode: z.string(),
    financialYear: z.string(),
    baselinePence: Pence,
    topSliceBasisPoints: z.int(),
    topSlicePaidPence: Pence,
    savingsTargetPence: Pence,
    verifiedSavings: z.object({ cashablePence: Pence, otherPence: Pence }),
    yearClosed: z.boolean(),
    creditsIssued: Credits,
    obligationCredits: Credits,
    credits: z
      .array(z.object({ vintage: z.string(), held: Credits, reserved: Credits, available: Credits }))
      .openapi({ description: 'Every vintage held: `available` = `held` − `reserved` (what resting sell orders hold back).' }),
    cash: z.object({ balancePence: Pence, reservedPence: Pence, availablePence: Pence }),
    obligations: z
      .array(z.object({ financialYear: z.string(), obligationCredits: Credits, status: z.string() }).passthrough())
      .openapi({ description: 'Obligations of every year, each with its year and compliance status.' }),
    buyOuts: z
      .object({ paidPence: Pence, outstandingPence: Pence })
      .openapi({ description: 'Buy-outs of this financial year’s compliance run.' }),
    openOrders: z.array(OrderSchema),
    bilateralOffers: z.array(BilateralSchema),
  })
  .openapi('DepartmentPosition');

/** A department sees only its own; treasury, auditors and panel see every department. */

export function creditRoutes(deps: Deps) {
  const db = deps.database.db;
  const ctx = (c: { get(k: 'requestId'): string; get(k: 'principal'): Principal }) => ({
    p: c.get('principal'),
    requestId: c.get('requestId'),
    now: deps.clock(),
  });
  return createRouter()
    .openapi(
      apiRoute({
        method: 'post',
        path: '/financial-years/{fy}/close',
        tags: ['Credits'],
        summary: 'Close a year: issue savings credits to departments that beat their targets, obligations to those that fell short',
        description:
          'Verified cashable fiscal savings for benefit year `fy` against each department’s target: 1 credit per whole £1 of surplus (rounded down), 1 credit owed per £1 or part of £1 short (rounded up). Running it again changes nothing and returns the same result (200).',
        roles: ['treasury'],
        problems: ['financial-year-not-found', 'no-departments-set', 'ledger-refused'],
        idempotent: true,
        request: { params: FyParam },
        responses: {
          200: jsonContent(YearCloseSchema, 'Already closed'),
          201: jsonContent(YearCloseSchema, 'Closed now'),
          404: errorResponses[404],
          422: errorResponses[422],
        },
      }),
      async (c) => {
        const { fy } = c.req.valid('param');
        const { p, requestId, now } = ctx(c);
        const { close, created } = await acting(deps, c, (act) => closeYear(act.trx, fy, actorOf(p), requestId, now));
        return created ? c.json(toJson(close), 201) : c.json(toJson(close), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/financial-years/{fy}/close',
        tags: ['Credits'],
        summary: "A closed year's outcome per department (a department sees its own)",
        roles: READERS,
        problems: ['year-close-not-found'],
        request: { params: FyParam },
        responses: { 200: jsonContent(YearCloseSchema, 'The close'), 404: errorResponses[404] },
      }),
      async (c) => {
        const { fy } = c.req.valid('param');
        return c.json(toJson(await getYearClose(db, fy, ownDepartmentScope(c.get('principal')))), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/financial-years/{fy}/departments/{code}/credit-issuance',
        tags: ['Credits'],
        summary: "A department's credits or obligation for a closed year, with the verified reports behind it (provenance)",
        roles: READERS,
        problems: ['year-close-not-found', 'department-outcome-not-found'],
        request: { params: FyParam.extend({ code: OrganisationCode }) },
        responses: { 200: jsonContent(ProvenanceSchema, 'The issuance and its evidence'), 404: errorResponses[404] },
      }),
      async (c) => {
        const { fy, code } = c.req.valid('param');
        assertMayRead(c.get('principal'), code);
        return c.json(toJson(await issuanceWithProvenance(db, fy, code)), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/departments/{code}/position',
        tags: ['Credits'],
        summary:
          "A department's whole position for a year: budget, top-slice, target, savings, credits, cash, obligations, buy-outs, orders, offers",
        roles: READERS,
        problems: ['financial-year-not-found', 'department-year-not-found'],
        request: { params: z.object({ code: OrganisationCode }), query: FyQuery },
        responses: { 200: jsonContent(PositionSchema, 'The position'), 404: errorResponses[404] },
      }),
      async (c) => {
        const { code } = c.req.valid('param');
        const { fy } = c.req.valid('query');
        assertMayRead(c.get('principal'), code);
        await getFinancialYear(db, fy);
        return c.json(toJson(await departmentPosition(db, code, fy, deps.clock())), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'put',
        path: '/financial-years/{fy}/credit-market',
        tags: ['Credits'],
        summary: "Set a year's floor and ceiling (buy-out) price per credit",
        roles: ['treasury'],
        problems: ['financial-year-not-found', 'compliance-already-run', 'resting-orders-outside-band'],
        idempotent: true,
        request: {
          params: FyParam,
          body: jsonBody(z.strictObject({ floorPence: PricePerCredit, ceilingPence: PricePerCredit }).openapi('CreditMarketPrices')),
        },
        responses: {
          200: jsonContent(MarketSchema, 'Changed'),
          201: jsonContent(MarketSchema, 'Set for the first time'),
          404: errorResponses[404],
          409: errorResponses[409],
          422: errorResponses[422],
        },
      }),
      async (c) => {
        const { fy } = c.req.valid('param');
        const body = c.req.valid('json');
        const { p, requestId, now } = ctx(c);
        const { created, market } = await acting(deps, c, async (act) => {
          const r = await setMarketPrices(
            act.trx,
            fy,
            { floorPence: BigInt(body.floorPence), ceilingPence: BigInt(body.ceilingPence) },
            p,
            requestId,
            now,
          );
          return { created: r.created, market: await marketState(act.trx, fy) };
        });
        return created ? c.json(toJson(market), 201) : c.json(toJson(market), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/financial-years/{fy}/credit-market',
        tags: ['Credits'],
        summary: "A year's market: open or not, floor and ceiling, the book by price level",
        roles: READERS,
        problems: ['financial-year-not-found'],
        request: { params: FyParam },
        responses: { 200: jsonContent(MarketSchema, 'The market'), 404: errorResponses[404] },
      }),
      async (c) => {
        const { fy } = c.req.valid('param');
        await getFinancialYear(db, fy);
        return c.json(toJson(await marketState(db, fy)), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/credits/orders',
        tags: ['Credits'],
        summary: 'Place a limit order for your department (matched on arrival by price, then time, at the resting price)',
        description:
          'Self-trade prevention cancels the incoming order: one that would meet its own department’s resting order is refused whole (422 `self-trade-prevented`). What rests is reserved on the ledger (credits for a sell, quantity × limit for a buy).',
        roles: ['department'],
        problems: [
          'financial-year-not-found',
          'trading-year-not-closed',
          'trading-closed',
          'market-prices-not-set',
          'price-outside-band',
          'department-not-in-year',
          'vintage-in-the-future',
          'vintage-not-issued',
          'insufficient-credits',
          'insufficient-cash',
          'self-trade-prevented',
          'ledger-refused',
        ],
        idempotent: true,
        request: {
          body: jsonBody(
            z
              .strictObject({
                financialYear: FinancialYearName,
                side: Side,
                quantity: Quantity,
                limitPricePence: PricePerCredit,
                vintage: FinancialYearName.optional(),
              })
              .openapi('CreditOrderInput'),
          ),
        },
        responses: {
          201: jsonContent(z.object({ order: OrderSchema, fills: z.array(FillSchema) }), 'Placed (filled, part filled or resting)'),
          404: errorResponses[404],
          409: errorResponses[409],
          422: errorResponses[422],
        },
      }),
      async (c) => {
        const body = c.req.valid('json');
        const { p, requestId, now } = ctx(c);
        const result = await acting(deps, c, (act) =>
          placeOrder(
            act.trx,
            p,
            {
              financialYear: body.financialYear,
              side: body.side,
              quantity: BigInt(body.quantity),
              limitPricePence: BigInt(body.limitPricePence),
              vintage: body.vintage ?? null,
            },
            requestId,
            now,
          ),
        );
        return c.json(toJson(result), 201);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/credits/orders',
        tags: ['Credits'],
        summary: "A year's orders, newest first (a department sees its own)",
        roles: MARKET_READERS,
        problems: [],
        request: { query: FyQuery.extend({ status: z.enum(['open', 'filled', 'cancelled', 'expired']).optional() }) },
        responses: { 200: jsonContent(z.object({ orders: z.array(OrderSchema) }), 'The orders') },
      }),
      async (c) => {
        const { fy, status } = c.req.valid('query');
        return c.json(toJson({ orders: await listOrders(db, fy, { department: ownDepartmentScope(c.get('principal')), status }) }), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/credits/orders/{id}',
        tags: ['Credits'],
        summary: 'One order (a department sees its own)',
        roles: MARKET_READERS,
        problems: ['credit-order-not-found'],
        request: { params: IdParam },
        responses: { 200: jsonContent(OrderSchema, 'The order'), 404: errorResponses[404] },
      }),
      async (c) => c.json(toJson(await getOrder(db, c.get('principal'), c.req.valid('param').id)), 200),
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/credits/orders/{id}/cancel',
        tags: ['Credits'],
        summary: 'Cancel your resting order; its reservation is released',
        roles: ['department'],
        problems: ['credit-order-not-found', 'order-not-open', 'ledger-refused'],
        idempotent: true,
        request: { params: IdParam },
        responses: { 200: jsonContent(OrderSchema, 'Cancelled'), 404: errorResponses[404], 409: errorResponses[409] },
      }),
      async (c) => {
        const { p, requestId, now } = ctx(c);
        const order = await acting(deps, c, (act) => cancelOrder(act.trx, p, c.req.valid('param').id, requestId, now));
        return c.json(toJson(order), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/credits/bilateral-trades',
        tags: ['Credits'],
        summary: 'Propose a trade to another department (you as buyer or seller); it settles when they accept',
        roles: ['department'],
        problems: [
          'financial-year-not-found',
          'trading-year-not-closed',
          'trading-closed',
          'market-prices-not-set',
          'price-outside-band',
          'vintage-in-the-future',
          'vintage-not-issued',
          'counterparty-is-yourself',
          'department-not-found',
          'department-not-in-year',
          'insufficient-credits',
          'insufficient-cash',
        ],
        idempotent: true,
        request: {
          body: jsonBody(
            z
              .strictObject({
                financialYear: FinancialYearName,
                counterpartyCode: OrganisationCode,
                side: Side.openapi({ description: 'Your side: sell (you deliver credits) or buy (you pay).' }),
                vintage: FinancialYearName,
                quantity: Quantity,
                pricePence: PricePerCredit,
                expiresInDays: z
                  .int({ error: says('must be a whole number of days') })
                  .min(1, { error: says('must be at least 1') })
                  .max(30, { error: says('must be at most 30') })
                  .optional()
                  .openapi({ description: 'Default 7.' }),
              })
              .openapi('BilateralTradeInput'),
          ),
        },
        responses: {
          201: jsonContent(BilateralSchema, 'Proposed'),
          404: errorResponses[404],
          409: errorResponses[409],
          422: errorResponses[422],
        },
      }),
      async (c) => {
        const body = c.req.valid('json');
        const { p, requestId, now } = ctx(c);
        const b = await acting(deps, c, (act) =>
          proposeBilateral(act.trx, p, { ...body, quantity: BigInt(body.quantity), pricePence: BigInt(body.pricePence) }, requestId, now),
        );
        return c.json(toJson(b), 201);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/credits/bilateral-trades',
        tags: ['Credits'],
        summary: "A year's bilateral proposals (a department sees those it made or received)",
        roles: MARKET_READERS,
        problems: [],
        request: { query: FyQuery },
        responses: { 200: jsonContent(z.object({ bilateralTrades: z.array(BilateralSchema) }), 'The proposals') },
      }),
      async (c) => {
        const { fy } = c.req.valid('query');
        return c.json(toJson({ bilateralTrades: await listBilaterals(db, fy, deps.clock(), ownDepartmentScope(c.get('principal'))) }), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/credits/bilateral-trades/{id}',
        tags: ['Credits'],
        summary: 'One bilateral proposal (a department sees those it made or received)',
        roles: MARKET_READERS,
        problems: ['bilateral-trade-not-found'],
        request: { params: IdParam },
        responses: { 200: jsonContent(BilateralSchema, 'The proposal'), 404: errorResponses[404] },
      }),
      async (c) => c.json(toJson(await getBilateral(db, c.get('principal'), c.req.valid('param').id, deps.clock())), 200),
    )
    .openapi(...bilateralAction('accept', 'Accept a proposal made to you: the trade settles delivery-versus-payment now', acceptBilateral))
    .openapi(...bilateralAction('decline', 'Decline a proposal made to you', declineBilateral))
    .openapi(...bilateralAction('withdraw', 'Withdraw your own proposal', withdrawBilateral))
    .openapi(
      apiRoute({
        method: 'get',
        path: '/credits/trades',
        tags: ['Credits'],
        summary: "A year's trades with price, quantity, vintage and both parties, and the year's volume-weighted average price",
        description:
          'A department sees the trades it is party to; the market figures (count, volume, value, VWAP) cover every trade of the year.',
        roles: MARKET_READERS,
        problems: [],
        request: { query: FyQuery },
        responses: { 200: jsonContent(TradeListSchema, 'The trades') },
      }),
      async (c) => {
        const { fy } = c.req.valid('query');
        return c.json(toJson(await listTrades(db, fy, ownDepartmentScope(c.get('principal')))), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/financial-years/{fy}/compliance',
        tags: ['Credits'],
        summary: 'Run compliance for a closed year: surrender credits oldest vintage first, buy out the rest at the ceiling into the fund',
        description: 'Ends the year’s market (resting orders lapse). Running it again changes nothing and returns the same result (200).',
        roles: ['treasury'],
        problems: [
          'financial-year-not-found',
          'financial-year-not-closed',
          'market-prices-not-set',
          'ledger-limit-reached',
          'ledger-refused',
        ],
        idempotent: true,
        request: { params: FyParam },
        responses: {
          200: jsonContent(ComplianceSchema, 'Already run'),
          201: jsonContent(ComplianceSchema, 'Run now'),
          404: errorResponses[404],
          409: errorResponses[409],
          422: errorResponses[422],
        },
      }),
      async (c) => {
        const { fy } = c.req.valid('param');
        const { p, requestId, now } = ctx(c);
        const { run, created } = await acting(deps, c, (act) => runCompliance(act.trx, fy, actorOf(p), requestId, now));
        return created ? c.json(toJson(run), 201) : c.json(toJson(run), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/financial-years/{fy}/compliance',
        tags: ['Credits'],
        summary: "A year's compliance result and status per department (a department sees its own)",
        roles: READERS,
        problems: ['compliance-run-not-found'],
        request: { params: FyParam },
        responses: { 200: jsonContent(ComplianceSchema, 'The run'), 404: errorResponses[404] },
      }),
      async (c) => {
        const { fy } = c.req.valid('param');
        return c.json(toJson(await getCompliance(db, fy, ownDepartmentScope(c.get('principal')))), 200);
      },
    );

  function bilateralAction(action: 'accept' | 'decline' | 'withdraw', summary: string, run: typeof acceptBilateral) {
    return [
      apiRoute({
        method: 'post',
        path: `/credits/bilateral-trades/{id}/${action}`,
        tags: ['Credits'],
        summary,
        roles: ['department'],
        problems:
          action === 'accept'
            ? ([
                'bilateral-trade-not-found',
                'not-your-part',
                'bilateral-trade-expired',
                'bilateral-trade-not-open',
                'trading-closed',
                'price-outside-band',
                'insufficient-credits',
                'insufficient-cash',
                'trade-cannot-settle',
              ] as const)
            : (['bilateral-trade-not-found', 'not-your-part', 'bilateral-trade-expired', 'bilateral-trade-not-open'] as const),
        idempotent: true,
        request: { params: IdParam },
        responses: {
          200: jsonContent(BilateralSchema, 'Done'),
          404: errorResponses[404],
          409: errorResponses[409],
          422: errorResponses[422],
        },
      }),
      // biome-ignore lint/suspicious/noExplicitAny: the three actions share one handler shape
      async (c: any) => {
        const { p, requestId, now } = ctx(c);
        const b = await acting(deps, c, (act) => run(act.trx, p, c.req.valid('param').id, requestId, now));
        return c.json(toJson(b), 200);
      },
    ] as const;
  }
}
