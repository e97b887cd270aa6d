import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTsx } from '../support/child.ts';

/** The README's demo command, run as a user would: it plays the year through the API and keeps serving. */
describe('npm run demo', () => {
  it('plays the year through the API, verifies the ledger and serves with a working token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'topslice-demo-'));
    const demo = startTsx('src/demo/run.ts', {
      PORT: '0',
      DEMO_DATABASE_PATH: join(dir, 'demo.db'),
      DEMO_OUT_DIR: join(dir, 'out'),
      LOG_LEVEL: 'warn',
    });
    try {
      await new Promise<void>((resolve, reject) => {
        demo.onLine((line) => {
          if (/^tsl_/.test(line)) resolve();
        });
        demo.exited.then(({ code }) => reject(new Error(`demo exited ${code}: ${demo.stderr()}`)));
      });
      const out = demo.lines.join('\n');
      expect(out).toContain('Posted again: 0 new, 8 already in the ledger');
      expect(out.match(/TP-2026-27-00\d approved: /g)).toHaveLength(6);
      expect(out.match(/TP-2026-27-00\d rejected/g)).toHaveLength(1);
      expect(out.match(/TP-2026-27-00\d deferred/g)).toHaveLength(1);
      expect(out.match(/tranche 1: £[\d,.]+ released/g)).toHaveLength(6);
      expect(out).toContain('rejects the report, with its reason');
      expect(out).toContain('ok: true');
      expect(out).toMatch(/issued [\d,]+ credits/);
      expect(out).toMatch(/owes [\d,]+ credits/);
      expect(out).toMatch(/matched [\d,]+ credits with \w+ at £1\.10 \(the resting price\)/);
      expect(out).toContain('accepts: trade');
      expect(out).toContain('Order would trade with your own');
      expect(out.match(/pooled target/g)).toHaveLength(2);
      expect(out).toContain('compliant-by-buy-out');
      expect(out).toContain('Compliance run again: the same result, nothing moved');
      expect(out).toMatch(
        /credits: \d+ issued = \d+ available \+ 0 reserved \+ \d+ surrendered \(conserved\); reservations match the book: true/,
      );
      const url = /running at (http:\/\/\S+)/.exec(out)?.[1];
      const token = demo.lines.at(-1);
      const fund = await fetch(`${url}/api/v1/fund?fy=2026-27`, { headers: { authorization: `Bearer ${token}` } });
      expect(fund.status).toBe(200);
      const position = (await fund.json()) as {
        contributedPence: number;
        committedPence: number;
        releasedPence: number;
        availablePence: number;
        balancePence: number;
      };
      expect(position.contributedPence).toBe(835_400_000_00);
      // Six awards of £12,780,000 in all; their first tranches, £5,112,000, released; £25,000 refunded.
      expect(position.committedPence).toBe(7_668_000_00);
      expect(position.releasedPence).toBe(5_112_000_00);
      expect(position.availablePence).toBe(position.balancePence - position.committedPence);
      expect((await fetch(`${url}/docs`)).status).toBe(200);
      // Every document, written to the demo's out directory.
      const pdfs = readdirSync(join(dir, 'out'));
      expect(pdfs.filter((f) => f.endsWith('-business-case.pdf'))).toHaveLength(8);
      expect(pdfs.filter((f) => f.endsWith('-decision-letter.pdf'))).toHaveLength(8);
      expect(pdfs).toEqual(expect.arrayContaining(['fund-statement-2026-27.pdf', 'realised-benefits-2026-27.pdf']));
      expect(pdfs.filter((f) => f.startsWith('place-'))).toHaveLength(8);
    } finally {
      demo.process.kill('SIGTERM');
      await demo.exited;
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
