import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** The install-time browser set-up (npm's postinstall), exercised without changing the machine. */
const setup = (args: string[], env: Record<string, string>) => {
  const r = spawnSync(process.execPath, ['scripts/setup-browser.mjs', ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
};

describe('npm install provides the browser', () => {
  it('is wired as the postinstall script', async () => {
    const pkg = (await import('../../package.json', { with: { type: 'json' } })).default as { scripts: Record<string, string> };
    expect(pkg.scripts.postinstall).toBe('node scripts/setup-browser.mjs');
  });

  it('names the missing browser and the apt-get command that installs it, changing nothing in a dry run', () => {
    const r = setup(['--dry-run'], { BROWSER_PATH: '/nowhere/chromium' });
    expect(r.status).toBe(0);
    expect(r.out).toContain('missing chromium (no browser at /nowhere/chromium)');
    const isRoot = process.getuid?.() === 0;
    expect(r.out).toContain(isRoot ? 'Would run: apt-get update' : 'Would stop and ask for');
    expect(r.out).toMatch(/apt-get install -y chromium/);
  });

  it('stops with the exact command when it may not install', () => {
    const r = setup(['--no-install'], { BROWSER_PATH: '/nowhere/chromium' });
    expect(r.status).toBe(1);
    expect(r.out).toContain("sudo sh -c 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium'");
    expect(r.out).toContain('BROWSER_PATH');
  });

  it('asks for poppler-utils too when its tools are not on the PATH, and for nothing when all is there', () => {
    const bin = mkdtempSync(join(tmpdir(), 'topslice-path-'));
    try {
      symlinkSync('/usr/bin/apt-get', join(bin, 'apt-get'));
      const r = setup(['--dry-run'], { BROWSER_PATH: '/nowhere/chromium', PATH: bin });
      expect(r.out).toContain('missing chromium, poppler-utils');
      expect(r.out).toMatch(/apt-get install -y chromium poppler-utils/);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
    const ok = setup([], {});
    expect(ok.status).toBe(0);
    expect(ok.out).toContain('are present');
  });
});
