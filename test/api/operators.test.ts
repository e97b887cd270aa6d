import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { type RunningServer, StartupError, startServer } from '../../src/server.ts';
import { startTsx } from '../support/child.ts';

/*
 * What an operator meets: the server on a port already taken, a request Node's HTTP parser
 * refuses, and the CLI's help, unknown commands and invalid arguments.
 */

/** Sends raw bytes and returns everything the server answers before it closes. */
function rawRequest(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      answer += d;
    });
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('the server and the CLI for operators', () => {
  let dir: string;
  let server: RunningServer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'topslice-ops-'));
    server = await startServer(loadConfig({ PORT: '0', DATABASE_PATH: join(dir, 'ops.db'), LOG_LEVEL: 'silent' }));
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps each database's audit checkpoints in a file of its own unless AUDIT_CHECKPOINT_PATH names one", () => {
    // One file shared by two databases would check one's checkpoints against the other's chain: false tampering.
    expect(loadConfig({ DATABASE_PATH: 'data/demo.db' }).auditCheckpointPath).toBe('data/demo.db.audit-checkpoints.jsonl');
    expect(loadConfig({ DATABASE_PATH: '/tmp/s.db' }).auditCheckpointPath).toBe('/tmp/s.db.audit-checkpoints.jsonl');
    expect(loadConfig({}).auditCheckpointPath).toBe('data/topslice.db.audit-checkpoints.jsonl');
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@h:5432/fund', DATABASE_SCHEMA: 'scale_1' }).auditCheckpointPath).toBe(
      'data/audit-checkpoints-fund.scale_1.jsonl',
    );
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@h:5432/fund' }).auditCheckpointPath).toBe('data/audit-checkpoints-fund.jsonl');
    expect(loadConfig({ DATABASE_PATH: 'data/demo.db', AUDIT_CHECKPOINT_PATH: '/var/audit/cp.jsonl' }).auditCheckpointPath).toBe(
      '/var/audit/cp.jsonl',
    );
  });

  it('answers a header byte HTTP forbids with problem+json, not a bare 400', async () => {
    const answer = await rawRequest(
      server.url,
      'POST /api/v1/users HTTP/1.1\r\nHost: x\r\nIdempotency-Key: \x7f\r\nContent-Length: 0\r\n\r\n',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('Content-Type: application/problem+json');
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
    expect(body).toMatchObject({ type: '/problems/malformed-request', status: 400 });
  });

  it('answers a repeated Idempotency-Key header with a named 400', async () => {
    const answer = await rawRequest(
      server.url,
      'POST /api/v1/users HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer nope\r\nIdempotency-Key: B2\r\nIdempotency-Key: B2\r\nContent-Length: 0\r\n\r\n',
    );
    // Unauthenticated first: the key is judged for a signed-in user only.
    expect(answer).toMatch(/^HTTP\/1\.1 401 /);
  });

  it('answers a bare POST with no Content-Length or body through Node as no input, not 415', async () => {
    const answer = await rawRequest(
      server.url,
      'POST /api/v1/financial-years/2026-27/contributions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 401 /);
    const big = await rawRequest(
      server.url,
      'POST /api/v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n{',
    );
    expect(big).toMatch(/^HTTP\/1\.1 413 /);
    expect(big).toContain('/problems/body-too-large');
  });

  it('names the port and PORT in one line when the port is taken', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const error = await startServer(loadConfig({ PORT: String(port), DATABASE_PATH: join(dir, 'ops.db'), LOG_LEVEL: 'silent' })).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StartupError);
      expect((error as Error).message).toBe(`Port ${port} on 127.0.0.1 is already in use. Set PORT to a free port (PORT=0 picks one).`);
      const child = startTsx('src/server.ts', { PORT: String(port), DATABASE_PATH: join(dir, 'ops.db'), LOG_LEVEL: 'silent' });
      const exit = await child.exited;
      expect(exit.code).toBe(1);
      expect(child.stderr().trim()).toBe(`Port ${port} on 127.0.0.1 is already in use. Set PORT to a free port (PORT=0 picks one).`);
    } finally {
      blocker.close();
    }
  });

  it('says how to get the first token when it starts on a database with no users', async () => {
    const child = startTsx('src/server.ts', { PORT: '0', DATABASE_PATH: join(dir, 'empty.db'), LOG_LEVEL: 'info' });
    const hint = await new Promise<string>((resolve) => {
      const check = (line: string) => {
        if (line.includes('npm run cli -- bootstrap')) resolve(line);
      };
      child.lines.forEach(check);
      child.onLine(check);
    });
    child.process.kill('SIGTERM');
    await child.exited;
    expect(JSON.parse(hint)).toMatchObject({ msg: 'no users yet' });
  });

  it('CLI: --help exits 0, an unknown command and an invalid argument are named and exit 2', async () => {
    const env = { DATABASE_PATH: join(dir, 'cli.db') };
    for (const args of [['--help'], ['help'], ['verify', '--help']]) {
      const run = startTsxArgs(args, env);
      const exit = await run.exited;
      expect(exit.code, args.join(' ')).toBe(0);
      expect(run.lines.join('\n')).toContain('topslice operator commands');
    }
    const unknown = startTsxArgs(['frobnicate'], env);
    expect((await unknown.exited).code).toBe(2);
    expect(unknown.stderr()).toContain('Unknown command: frobnicate.');
    const role = startTsxArgs(['create-user', 'wizard', 'Bob'], env);
    expect((await role.exited).code).toBe(2);
    expect(role.stderr()).toContain('Invalid role: wizard.');
    const extra = startTsxArgs(['verify', 'now'], env);
    expect((await extra.exited).code).toBe(2);
    expect(extra.stderr()).toContain('unexpected: now');
    const year = startTsxArgs(['close-year', 'foo'], env);
    expect((await year.exited).code).toBe(2);
    expect(year.stderr()).toContain('foo is not a financial year');
    const option = startTsxArgs(['migrate', '--force'], env);
    expect((await option.exited).code).toBe(2);
    expect(option.stderr()).toContain('Unknown option for migrate: --force.');
  });
});

/** The CLI with arguments. */
function startTsxArgs(args: string[], env: Record<string, string>) {
  return startTsx('src/cli.ts', env, args);
}
