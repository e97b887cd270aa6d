#!/usr/bin/env node
// Runs after `npm install`: PDFs are rendered by Debian's Chromium, in Liberation fonts, and
// poppler-utils lets people look at them (pdftoppm, pdfinfo). Installs whatever is missing with
// apt-get when run as root; otherwise stops and prints the exact command to run. Never downloads
// a browser build. BROWSER_PATH names another Chromium.
//
//   node scripts/setup-browser.mjs [--dry-run] [--no-install]
//     --dry-run     say what would be installed, change nothing
//     --no-install  never install; exit 1 with the command if anything is missing
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const args = new Set(process.argv.slice(2));
const dryRun = args.has('--dry-run');
const noInstall = args.has('--no-install');
const browserPath = process.env.BROWSER_PATH || '/usr/bin/chromium';
const FONT_DIRS = ['/usr/share/fonts/truetype/liberation', '/usr/share/fonts/truetype/liberation2'];

const onPath = (cmd) => (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, cmd)));

const missing = [];
if (!existsSync(browserPath)) missing.push('chromium');
if (!FONT_DIRS.some((d) => existsSync(d))) missing.push('fonts-liberation');
if (!onPath('pdftoppm')) missing.push('poppler-utils');

if (missing.length === 0) {
  console.log(`PDF set-up: Chromium at ${browserPath}, Liberation fonts and poppler-utils are present.`);
  process.exit(0);
}

const install = `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${missing.join(' ')}`;
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasApt = onPath('apt-get');
console.log(`PDF set-up: missing ${missing.join(', ')}${missing.includes('chromium') ? ` (no browser at ${browserPath})` : ''}.`);

if (dryRun) {
  if (!hasApt) console.log('Would stop: this machine has no apt-get.');
  else console.log(isRoot && !noInstall ? `Would run: ${install}` : `Would stop and ask for: sudo sh -c '${install}'`);
  process.exit(0);
}
if (noInstall || !isRoot || !hasApt) {
  console.error(
    hasApt
      ? `Run this once as root, then npm install again:\n  sudo sh -c '${install}'`
      : `This machine has no apt-get. Install Chromium, the Liberation fonts and poppler-utils with its package manager, and set BROWSER_PATH to the Chromium binary.`,
  );
  console.error('(To use a Chromium elsewhere, set BROWSER_PATH to it.)');
  process.exit(1);
}

console.log(`Running: ${install}`);
const run = (cmd, cmdArgs) => spawnSync(cmd, cmdArgs, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
const updated = run('apt-get', ['update']);
const installed = updated.status === 0 ? run('apt-get', ['install', '-y', ...missing]) : updated;
if (installed.status !== 0) {
  console.error(`apt-get failed (exit ${installed.status}). Run it yourself:\n  ${install}`);
  process.exit(1);
}
if (!existsSync(browserPath)) {
  console.error(`Chromium is installed, but BROWSER_PATH (${browserPath}) still names nothing. Unset it to use /usr/bin/chromium.`);
  process.exit(1);
}
console.log('PDF set-up: done.');
