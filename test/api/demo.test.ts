import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';

/** The README's demo command, run as a user would: it plays the year's set-up and keeps serving. */
describe('npm run demo', () => {
  it('sets up the year through the API, verifies the ledger and serves with a working token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'topslice-demo-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/demo/run.ts'], {
      env: { ...process.env, PORT: '0', DEMO_DATABASE_PATH: join(dir, 'demo.db'), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d) => {
      stderr += d;
    });
    try {
      const lines: string[] = [];
      await new Promise<void>((resolve, reject) => {
        const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
        rl.on('line', (line) => {
          lines.push(line);
          if (/^tsl_/.test(line)) resolve();
        });
        child.once('exit', (code) => reject(new Error(`demo exited ${code}: ${stderr}`)));
      });
      const out = lines.join('\n');
      expect(out).toContain('Posted again: 0 new, 8 already in the ledger');
      expect(out).toContain('ok: true');
      const url = /running at (http:\/\/\S+)/.exec(out)?.[1];
      const token = lines.at(-1);
      const fund = await fetch(`${url}/api/v1/fund?fy=2026-27`, { headers: { authorization: `Bearer ${token}` } });
      expect(fund.status).toBe(200);
      const position = (await fund.json()) as {
        contributedPence: number;
        committedPence: number;
        releasedPence: number;
        availablePence: number;
        balancePence: number;
      };
      expect(position).toMatchObject({ contributedPence: 835_400_000_00 });
      expect(position.committedPence + position.releasedPence).toBeGreaterThan(0);
      expect(position.availablePence).toBe(position.balancePence - position.committedPence);
      expect((await fetch(`${url}/docs`)).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
