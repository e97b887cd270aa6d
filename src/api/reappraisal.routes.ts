import { z } from '@hono/zod-openapi';
import { reappraiseRound } from '../appraisal/reappraisal.ts';
import type { Deps } from '../http/context.ts';
import { apiRoute, createRouter, errorResponses, jsonContent } from '../http/router.ts';
import { invalid } from '../lib/errors.ts';
import { toJson } from '../lib/money.ts';
import { Pence } from './schemas.ts';

const Band = z.enum(['poor', 'low', 'medium', 'high', 'very-high']).nullable();

const RowSchema = z.object({
  caseId: z.string(),
  reference: z.string(),
  title: z.string(),
  status: z.string(),
  stored: z.object({
    parameterSet: z.object({ name: z.string(), version: z.string() }),
    fiscalNpvPence: Pence,
    bcr: z.number().nullable(),
    vfmBand: Band,
    rank: z.int(),
  }),
  reappraised: z.object({ fiscalNpvPence: Pence, bcr: z.number().nullable(), vfmBand: Band, rank: z.int() }),
  change: z.object({
    fiscalNpvPence: Pence,
    publicValueNpvPence: Pence,
    rank: z.int().openapi({ description: 'Re-appraised rank − stored rank: negative moves up.' }),
  }),
});

export function reappraisalRoutes(deps: Deps) {
  const db = deps.database.db;
  return createRouter().openapi(
    apiRoute({
      method: 'get',
      path: '/rounds/{id}/reappraisal',
      tags: ['Panel'],
      summary: 'Every submitted case in the round recomputed under another parameter set: change in NPV, BCR, VfM band and rank',
      description:
        'Each case is recomputed exactly under `parameterSet` (name@version) with the round’s GDP deflator edition and compared with its stored appraisal, which never changes. Rank is by value for money: BCR, highest first, cases without a BCR last, ties by reference.',
      roles: ['panel', 'treasury', 'auditor'],
      problems: ['round-not-found', 'appraisal-not-possible', 'appraisal-out-of-range', 'appraisal-missing'],
      request: {
        params: z.object({ id: z.string().max(50) }),
        query: z.object({
          // Required, but checked after the caller's role, so a refusal does not depend on the query.
          parameterSet: z
            .string()
            .max(200)
            .optional()
            .openapi({ description: 'Required: the parameter set, as name@version.', example: 'local-partnerships-cba@2014.1' }),
        }),
      },
      responses: {
        200: jsonContent(
          z.object({
            roundId: z.string(),
            parameterSet: z.object({ name: z.string(), version: z.string(), provisional: z.boolean() }),
            cases: z.array(RowSchema),
          }),
          'Each case, by reference',
        ),
        404: errorResponses[404],
        422: errorResponses[422],
      },
    }),
    async (c) => {
      const id = c.req.valid('param').id;
      const ref = c.req.valid('query').parameterSet;
      if (ref === undefined) throw invalid([{ parameter: 'parameterSet', detail: 'is required, as name@version' }]);
      const r = await reappraiseRound(db, id, ref);
      const set = r.parameterSet;
      return c.json(
        { roundId: id, parameterSet: { name: set.name, version: set.version, provisional: set.provisional }, cases: toJson(r.rows) },
        200,
      );
    },
  );
}
