import { buildPlaceReport } from '../documents/documents.ts';
import { financialYearOf, listFinancialYears } from '../fund/fund.ts';
import { FUND_REFUSALS } from '../fund/refusals.ts';
import { refuse } from '../lib/refusals.ts';
import { listPlaces } from '../reference/reference.ts';
import type { PageSection } from './app.ts';
import { render, signedIn, toSignIn } from './pages.ts';
import { documentsOf, pdfResponse } from './treasury-documents.ts';

/*
 * The place view, Total Place's "count": all the money flowing through one place in a year — its
 * cases, awards, releases, the savings by department, disposals against the pooled target — and
 * a flow chart of money in and savings out with its table. The page shows the place report's own
 * figures (`buildPlaceReport`, the same read as its PDF, with the same readers: anyone signed in;
 * disposals for those who may read them).
 */

const FY = /^\d{4}-\d{2}$/;

export const placePages: PageSection = {
  navigation: [
    {
      href: '/places',
      text: 'Places',
      description: 'All the money flowing through one place in a year: the Total Place count',
      roles: ['treasury', 'auditor', 'panel', 'department', 'council'],
    },
  ],
  mount(web, deps) {
    const db = deps.database.db;
    const documents = documentsOf(deps);

    /** The year asked for, or the current one if it is set up, or the latest. */
    async function yearOf(asked: string | undefined): Promise<{ fy: string; years: string[] }> {
      const years = (await listFinancialYears(db)).map((y) => y.name);
      if (asked !== undefined) {
        if (!FY.test(asked) || !years.includes(asked))
          throw refuse(FUND_REFUSALS, 'financial-year-not-found', `There is no financial year ${asked}.`);
        return { fy: asked, years };
      }
      const current = financialYearOf(deps.clock());
      const fy = years.includes(current) ? current : years.at(-1);
      if (!fy) throw refuse(FUND_REFUSALS, 'financial-year-not-found', 'No financial year has been set up yet.');
      return { fy, years };
    }

    web.get('/places', async (c) => {
      if (!signedIn(c)) return toSignIn(c);
      const places = await listPlaces(db);
      return render(c, 'place-list', { title: 'Places', places });
    });

    web.get('/places/:code', async (c) => {
      const p = signedIn(c);
      if (!p) return toSignIn(c);
      const { fy, years } = await yearOf(c.req.query('fy'));
      const code = c.req.param('code');
      const built = await buildPlaceReport(db, p, code, fy, deps.clock());
      const m = built.model as Record<string, unknown> & { place: { name: string } };
      return render(c, 'place-view', {
        title: `${m.place.name} ${fy}`,
        backLink: '/places',
        ...m,
        fyName: fy,
        years: years.map((y) => ({ value: y, text: y, selected: y === fy })),
        pdfHref: `/places/${encodeURIComponent(code)}/report.pdf?fy=${fy}`,
      });
    });

    web.get('/places/:code/report.pdf', async (c) => {
      const p = signedIn(c);
      if (!p) return toSignIn(c);
      const { fy } = await yearOf(c.req.query('fy') ?? '');
      return pdfResponse(c, documents(), () => buildPlaceReport(db, p, c.req.param('code'), fy, deps.clock()));
    });
  },
};
