import { z } from '@hono/zod-openapi';
import { readCompliance, runYearCompliance } from '../compliance/compliance.ts';
import { closeFinancialYear, readIssuance, readYearClose } from '../credits/close.ts';
import { readPosition } from '../credits/position.ts';
import type { Deps } from '../http/context.ts';
import { acting, apiRoute, createRouter, errorResponses, jsonBody, jsonContent } from '../http/router.ts';
import { toJson } from '../lib/money.ts';
import {
  acceptBilateral,
  declineBilateral,
  proposeBilateral,
  readBilateral,
  readBilaterals,
  withdrawBilateral,
} from '../market/bilateral.ts';
import { cancelOrder, placeOrder, readOrder, readOrders } from '../market/orders.ts';
import { marketState, readMarket, setMarketPrices } from '../market/prices.ts';
import { readTrades } from '../market/trades.ts';
import type { Principal } from '../users/users.ts';
import { FinancialYearName, IdParam, OrganisationCode, Pence, says } from './schemas.ts';

const FyParam = z.object({ fy: FinancialYearName });
const FyQuery = z.object({ fy: FinancialYearName });
const Credits = z.int().openapi({ description: 'Whole savings credits (one credit is £1 of verified saving above target).' });
const Quantity = z
  .int({ error: says('must be a whole number of credits') })
  .min(1, { error: says('must be at least 1 credit') })
  .max(1_000_000_000, { error: says('must be at most 1,000,000,000 credits') })
  // Counted as the domain counts credits, in `bigint`.
  .transform((credits) => BigInt(credits));
const PricePerCredit = z
  .int({ error: says('must be a whole number of pence per credit') })
  .min(1, { error: says('must be at least 1p') })
  .max(1_000_000_00, { error: says('must be at most £1,000,000 per credit') })
  .openapi({ description: 'Pence per credit.', example: 95 })
  .transform((pence) => BigInt(pence));
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

/** A year's floor and ceiling prices, as the API and Treasury's market page both take them. */
export const MarketPricesInput = z.strictObject({ floorPence: PricePerCredit, ceilingPence: PricePerCredit }).openapi('CreditMarketPrices');

export function creditRoutes(deps: Deps) {
  const db = deps.database.db;
  const look = (c: { get(k: 'principal'): Principal }) => ({ db, principal: c.get('principal') });
  return createRouter()
    .openapi(
      apiRoute({
        method: 'post',
        path: '/financial-years/{fy}/close',
        tags: ['Credits'],
        summary: 'Close a year: issue savings credits to departments that beat their targets, obligations to those that fell short',
        description:
          'Verified cashable fiscal savings for benefit year `fy` against each department’s target: 1 credit per whole £1 of surplus (rounded down), 1 credit owed per £1 or part of £1 short (rounded up). Running it again changes nothing and returns the same result (200).',
        roles: closeFinancialYear.roles,
        problems: closeFinancialYear.refuses,
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
        const { close, created } = await acting(deps, c, (act) => closeFinancialYear(act, fy));
        return created ? c.json(toJson(close), 201) : c.json(toJson(close), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/financial-years/{fy}/close',
        tags: ['Credits'],
        summary: "A closed year's outcome per department (a department sees its own)",
        roles: readYearClose.roles,
        problems: readYearClose.refuses,
        request: { params: FyParam },
        responses: { 200: jsonContent(YearCloseSchema, 'The close'), 404: errorResponses[404] },
      }),
      async (c) => {
        const { fy } = c.req.valid('param');
        return c.json(toJson(await readYearClose(look(c), fy)), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/financial-years/{fy}/departments/{code}/credit-issuance',
        tags: ['Credits'],
        summary: "A department's credits or obligation for a closed year, with the verified reports behind it (provenance)",
        roles: readIssuance.roles,
        problems: readIssuance.refuses,
        request: { params: FyParam.extend({ code: OrganisationCode }) },
        responses: { 200: jsonContent(ProvenanceSchema, 'The issuance and its evidence'), 404: errorResponses[404] },
      }),
      async (c) => {
        const { fy, code } = c.req.valid('param');
        return c.json(toJson(await readIssuance(look(c), fy, code)), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/departments/{code}/position',
        tags: ['Credits'],
        summary:
          "A department's whole position for a year: budget, top-slice, target, savings, credits, cash, obligations, buy-outs, orders, offers",
        roles: readPosition.roles,
        problems: readPosition.refuses,
        request: { params: z.object({ code: OrganisationCode }), query: FyQuery },
        responses: { 200: jsonContent(PositionSchema, 'The position'), 404: errorResponses[404] },
      }),
      async (c) => {
        const { code } = c.req.valid('param');
        const { fy } = c.req.valid('query');
        return c.json(toJson(await readPosition(look(c), code, fy, deps.clock())), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'put',
        path: '/financial-years/{fy}/credit-market',
        tags: ['Credits'],
        summary: "Set a year's floor and ceiling (buy-out) price per credit",
        roles: setMarketPrices.roles,
        problems: setMarketPrices.refuses,
        idempotent: true,
        request: {
          params: FyParam,
          body: jsonBody(MarketPricesInput),
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
        const { created, market } = await acting(deps, c, async (act) => {
          const r = await setMarketPrices(act, fy, body);
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
        roles: readMarket.roles,
        problems: readMarket.refuses,
        request: { params: FyParam },
        responses: { 200: jsonContent(MarketSchema, 'The market'), 404: errorResponses[404] },
      }),
      async (c) => {
        return c.json(toJson(await readMarket(look(c), c.req.valid('param').fy)), 200);
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
        roles: placeOrder.roles,
        problems: placeOrder.refuses,
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
        const result = await acting(deps, c, (act) =>
          placeOrder(act, {
            financialYear: body.financialYear,
            side: body.side,
            quantity: body.quantity,
            limitPricePence: body.limitPricePence,
            vintage: body.vintage ?? null,
          }),
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
        roles: readOrders.roles,
        problems: readOrders.refuses,
        request: { query: FyQuery.extend({ status: z.enum(['open', 'filled', 'cancelled', 'expired']).optional() }) },
        responses: { 200: jsonContent(z.object({ orders: z.array(OrderSchema) }), 'The orders') },
      }),
      async (c) => {
        const { fy, status } = c.req.valid('query');
        return c.json(toJson({ orders: await readOrders(look(c), fy, status) }), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/credits/orders/{id}',
        tags: ['Credits'],
        summary: 'One order (a department sees its own)',
        roles: readOrder.roles,
        problems: readOrder.refuses,
        request: { params: IdParam },
        responses: { 200: jsonContent(OrderSchema, 'The order'), 404: errorResponses[404] },
      }),
      async (c) => c.json(toJson(await readOrder(look(c), c.req.valid('param').id)), 200),
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/credits/orders/{id}/cancel',
        tags: ['Credits'],
        summary: 'Cancel your resting order; its reservation is released',
        roles: cancelOrder.roles,
        problems: cancelOrder.refuses,
        idempotent: true,
        request: { params: IdParam },
        responses: { 200: jsonContent(OrderSchema, 'Cancelled'), 404: errorResponses[404], 409: errorResponses[409] },
      }),
      async (c) => {
        const order = await acting(deps, c, (act) => cancelOrder(act, c.req.valid('param').id));
        return c.json(toJson(order), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/credits/bilateral-trades',
        tags: ['Credits'],
        summary: 'Propose a trade to another department (you as buyer or seller); it settles when they accept',
        roles: proposeBilateral.roles,
        problems: proposeBilateral.refuses,
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
        const b = await acting(deps, c, (act) => proposeBilateral(act, body));
        return c.json(toJson(b), 201);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/credits/bilateral-trades',
        tags: ['Credits'],
        summary: "A year's bilateral proposals (a department sees those it made or received)",
        roles: readBilaterals.roles,
        problems: readBilaterals.refuses,
        request: { query: FyQuery },
        responses: { 200: jsonContent(z.object({ bilateralTrades: z.array(BilateralSchema) }), 'The proposals') },
      }),
      async (c) => {
        const { fy } = c.req.valid('query');
        return c.json(toJson({ bilateralTrades: await readBilaterals(look(c), fy, deps.clock()) }), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/credits/bilateral-trades/{id}',
        tags: ['Credits'],
        summary: 'One bilateral proposal (a department sees those it made or received)',
        roles: readBilateral.roles,
        problems: readBilateral.refuses,
        request: { params: IdParam },
        responses: { 200: jsonContent(BilateralSchema, 'The proposal'), 404: errorResponses[404] },
      }),
      async (c) => c.json(toJson(await readBilateral(look(c), c.req.valid('param').id, deps.clock())), 200),
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
        roles: readTrades.roles,
        problems: readTrades.refuses,
        request: { query: FyQuery },
        responses: { 200: jsonContent(TradeListSchema, 'The trades') },
      }),
      async (c) => {
        const { fy } = c.req.valid('query');
        return c.json(toJson(await readTrades(look(c), fy)), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/financial-years/{fy}/compliance',
        tags: ['Credits'],
        summary: 'Run compliance for a closed year: surrender credits oldest vintage first, buy out the rest at the ceiling into the fund',
        description: 'Ends the year’s market (resting orders lapse). Running it again changes nothing and returns the same result (200).',
        roles: runYearCompliance.roles,
        problems: runYearCompliance.refuses,
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
        const { run, created } = await acting(deps, c, (act) => runYearCompliance(act, fy));
        return created ? c.json(toJson(run), 201) : c.json(toJson(run), 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/financial-years/{fy}/compliance',
        tags: ['Credits'],
        summary: "A year's compliance result and status per department (a department sees its own)",
        roles: readCompliance.roles,
        problems: readCompliance.refuses,
        request: { params: FyParam },
        responses: { 200: jsonContent(ComplianceSchema, 'The run'), 404: errorResponses[404] },
      }),
      async (c) => {
        const { fy } = c.req.valid('param');
        return c.json(toJson(await readCompliance(look(c), fy)), 200);
      },
    );

  function bilateralAction(
    action: 'accept' | 'decline' | 'withdraw',
    summary: string,
    run: typeof acceptBilateral | typeof declineBilateral | typeof withdrawBilateral,
  ) {
    return [
      apiRoute({
        method: 'post',
        path: `/credits/bilateral-trades/{id}/${action}`,
        tags: ['Credits'],
        summary,
        roles: run.roles,
        problems: run.refuses,
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
        const b = await acting(deps, c, (act) => run(act, c.req.valid('param').id));
        return c.json(toJson(b), 200);
      },
    ] as const;
  }
}
