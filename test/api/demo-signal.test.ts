import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/child.ts';

/*
 * `npm run demo` stops when its npm process is sent SIGTERM, as a process manager or a terminal
 * closing would send it: the signal reaches the server through npm, the shell and tsx, and no
 * process of the tree (tsx, the server, the PDF renderer's browser) is left running.
 */

/** Every live process below `root` (children, grandchildren, ...), from `ps`. */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const line of execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' }).split('\n')) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number);
    if (!pid || ppid === undefined) continue;
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const c of children.get(pid) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(root);
  return out;
}

/**
 * Whether `pid` still runs. A zombie does not: it has exited and waits for its parent, or for
 * init once orphaned, to collect its status, which on a busy machine can take seconds.
 */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !execFileSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' })
      .trim()
      .startsWith('Z');
  } catch {
    return false; // Gone between the two looks.
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until none of `pids` is alive, up to `ms`; returns those still alive. */
async function outlived(pids: number[], ms: number): Promise<number[]> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!pids.some(alive)) return [];
    await sleep(100);
  }
  return pids.filter(alive);
}

function commandOf(pid: number): string {
  try {
    return execFileSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

/** Starts `npm run demo` on a fresh database in a temporary directory; resolves `when` a stdout line matches. */
function startDemo(dir: string) {
  const npm = spawn('npm', ['run', 'demo'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', DEMO_DATABASE_PATH: join(dir, 'demo.db'), DEMO_OUT_DIR: join(dir, 'out'), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiting: { test: RegExp; resolve: () => void }[] = [];
  let partial = '';
  let err = '';
  npm.stdout.setEncoding('utf8');
  npm.stdout.on('data', (chunk: string) => {
    partial += chunk;
    for (let nl = partial.indexOf('\n'); nl >= 0; nl = partial.indexOf('\n')) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      lines.push(line);
      for (const w of waiting) if (w.test.test(line)) w.resolve();
    }
  });
  npm.stderr.setEncoding('utf8');
  npm.stderr.on('data', (chunk: string) => {
    err += chunk;
  });
  // 'exit', not 'close': a process left running would hold the pipes open, and the test must see it.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    npm.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const when = (test: RegExp) =>
    Promise.race([
      new Promise<void>((resolve) => waiting.push({ test, resolve })),
      exited.then(({ code }) => {
        throw new Error(`npm run demo exited ${code} before ${test}: ${err}`);
      }),
    ]);
  return { npm: npm as ChildProcess & { pid: number }, lines, when, exited };
}

describe('npm run demo and SIGTERM', () => {
  it('stops every process of its tree when npm is sent SIGTERM while the year is being played', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'topslice-demo-term-'));
    const demo = startDemo(dir);
    let tree: number[] = [];
    try {
      // The server is listening before the first step is printed.
      await demo.when(/^== /);
      tree = descendants(demo.npm.pid);
      expect(tree.map(commandOf).some((c) => c.includes('src/demo/run.ts'))).toBe(true);
      demo.npm.kill('SIGTERM');
      expect(await outlived(tree, 30_000), tree.map(commandOf).join('\n')).toEqual([]);
    } finally {
      for (const pid of [demo.npm.pid, ...tree]) if (alive(pid)) process.kill(pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('stops every process of its tree, the PDF renderer’s browser too, when SIGTERM comes while it writes the documents', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'topslice-demo-term-'));
    const demo = startDemo(dir);
    let tree: number[] = [];
    try {
      await demo.when(/^== Every document, as PDF/);
      // Wait for the browser to start, so the signal finds it running.
      const until = Date.now() + 60_000;
      while (
        Date.now() < until &&
        !descendants(demo.npm.pid)
          .map(commandOf)
          .some((c) => /chrom/i.test(c))
      )
        await sleep(100);
      tree = descendants(demo.npm.pid);
      expect(tree.map(commandOf).some((c) => /chrom/i.test(c))).toBe(true);
      demo.npm.kill('SIGTERM');
      expect(await outlived(tree, 30_000), tree.map(commandOf).join('\n')).toEqual([]);
    } finally {
      for (const pid of [demo.npm.pid, ...tree]) if (alive(pid)) process.kill(pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
