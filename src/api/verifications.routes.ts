import { z } from '@hono/zod-openapi';
import type { Deps } from '../http/context.ts';
import { acting, apiRoute, createRouter, jsonContent } from '../http/router.ts';
import type { VerificationRunner } from '../verify/runner.ts';
import { listVerifications, readVerification, startVerification, type Verification } from '../verify/verifications.ts';
import { CheckpointSchema, VerificationSchema } from './ledger.routes.ts';
import { IdParam, Limit, PageCursor } from './schemas.ts';

const ProgressSchema = z
  .object({
    asOf: z.object({ auditPosition: z.string(), lastTransferSeq: z.string() }).nullable().openapi({
      description: 'What it checks: the audit chain up to this entry, the ledger up to this transfer. Null until its snapshot is taken.',
    }),
    auditEntriesChecked: z.int(),
    transfersChecked: z.int(),
  })
  .openapi({ description: 'How far it has got, as last reported (every few seconds while it runs).' });

const VerificationJobSchema = z
  .object({
    id: z.string(),
    seq: z.string().openapi({ description: 'Order of starting; pass as `before` for the next page of the list.' }),
    status: z.enum(['running', 'passed', 'failed', 'error']).openapi({
      description:
        '`running`; `passed` (every check passed); `failed` (a check did not: the report says which); `error` (it could not finish, or was interrupted when the service stopped: `error` says which; start another).',
    }),
    requestedBy: z.object({ userId: z.string(), name: z.string().nullable(), role: z.string() }),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
    checkpointsGiven: z
      .int()
      .openapi({ description: 'Checkpoints the request gave to check the chain against, beside the checkpoint file.' }),
    progress: ProgressSchema.nullable(),
    report: VerificationSchema.nullable().openapi({ description: 'Once passed or failed: the report GET /ledger/verify gives.' }),
    error: z.string().nullable(),
  })
  .openapi('BooksVerification');

const verificationJson = (v: Verification) => ({ ...v, seq: v.seq.toString() });
const locationOf = (id: string) => `/api/v1/ledger/verifications/${id}`;

/** Verifications of the books in the background: start one, follow it, read what it found. */
export function verificationRoutes(deps: Deps, runner: VerificationRunner) {
  const db = deps.database.db;
  return createRouter()
    .openapi(
      apiRoute({
        method: 'post',
        path: '/ledger/verifications',
        tags: ['Ledger'],
        summary: 'Start a verification of the books in the background',
        description:
          'The checks of GET /ledger/verify (and, with `checkpoints`, those of POST /ledger/verify), run away from the requests on one snapshot of the database, so that a fund of millions of transfers is checked without a request waiting for it or a writer waiting behind it. Answers at once with the verification, `running`; follow it at `Location`. Only one runs at a time: while one runs, this gives that one and starts nothing.',
        roles: startVerification.roles,
        problems: startVerification.refuses,
        idempotent: true,
        request: {
          body: {
            required: false,
            content: {
              'application/json': {
                schema: z.strictObject({
                  checkpoints: z
                    .array(CheckpointSchema)
                    .max(1000)
                    .optional()
                    .openapi({ description: 'Checkpoints you kept (POST /audit-log/checkpoints): the chain must still hold each.' }),
                }),
              },
            },
          },
        },
        responses: {
          202: {
            ...jsonContent(VerificationJobSchema, 'The verification started, or the one already running'),
            headers: { Location: { description: 'Where to follow it.', schema: { type: 'string' } } },
          },
        },
      }),
      async (c) => {
        const { checkpoints = [] } = (c.req.valid('json') ?? {}) as { checkpoints?: z.infer<typeof CheckpointSchema>[] };
        const { verification, started } = await acting(deps, c, (act) => startVerification(act, checkpoints));
        // Once its record has committed: the thread reads its own snapshot, after it.
        if (started) runner.start(verification.id, checkpoints);
        c.header('Location', locationOf(verification.id));
        return c.json(verificationJson(verification), 202);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/ledger/verifications/{id}',
        tags: ['Ledger'],
        summary: 'A verification of the books: how far it has got, or what it found',
        roles: readVerification.roles,
        problems: readVerification.refuses,
        request: { params: IdParam },
        responses: { 200: jsonContent(VerificationJobSchema, 'The verification') },
      }),
      async (c) =>
        c.json(verificationJson(await readVerification({ db, principal: c.get('principal') }, c.req.valid('param').id, deps.clock())), 200),
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/ledger/verifications',
        tags: ['Ledger'],
        summary: 'Verifications of the books, the latest first, a page at a time',
        description: 'Pass the `seq` of the last one you received as `before` to get the next page.',
        roles: listVerifications.roles,
        problems: listVerifications.refuses,
        request: {
          query: z.object({
            before: PageCursor('seq'),
            limit: Limit,
          }),
        },
        responses: {
          200: jsonContent(
            z.object({ verifications: z.array(VerificationJobSchema), nextBefore: z.string().nullable() }),
            'A page of verifications; `nextBefore` is null on the last page',
          ),
        },
      }),
      async (c) => {
        const q = c.req.valid('query');
        const list = await listVerifications(
          { db, principal: c.get('principal') },
          { before: q.before === undefined ? undefined : BigInt(q.before), limit: q.limit },
          deps.clock(),
        );
        const last = list.at(-1);
        return c.json(
          { verifications: list.map(verificationJson), nextBefore: list.length === q.limit && last ? last.seq.toString() : null },
          200,
        );
      },
    );
}
