import { Worker } from 'node:worker_threads';
import { auditKey, type KeptCheckpoint } from '../audit/audit.ts';
import { type Database, inTransaction } from '../db/database.ts';
import type { Logger } from '../lib/log.ts';
import type { VerificationReport } from './report.ts';
import { finishVerification, HEARTBEAT_SECONDS, renewLease, type VerificationProgress } from './verifications.ts';
import type { VerificationTask, WorkerMessage } from './worker.ts';

/*
 * Runs recorded verifications (./verifications.ts), each in a worker thread with a connection
 * and a snapshot of its own (./worker.ts): the checks are the same code GET /ledger/verify runs,
 * only away from the service's event loop and its connection. While one runs, its runner renews
 * its lease with how far it has got; when it ends, the runner records the report or the error.
 */

const THREAD = new URL('./worker-thread.mjs', import.meta.url);
const ENTRY = new URL('./worker.ts', import.meta.url).href;

export interface VerificationHooks {
  /**
   * Called once a verification has taken its snapshot, before it checks anything; it goes on
   * when the promise settles. What is written meanwhile is after its snapshot.
   */
  afterSnapshot?: (id: string) => Promise<void>;
}

export interface VerificationRunner {
  /** Starts the recorded, running verification `id` in the background. */
  start(id: string, checkpoints: KeptCheckpoint[]): void;
  /** Settles once every verification started here has ended and been recorded. */
  idle(): Promise<void>;
  /** Stops every verification still running here, recording each as an error. */
  close(): Promise<void>;
}

type Outcome = { report: VerificationReport } | { error: string };

export function createVerificationRunner(options: {
  database: Database;
  clock: () => Date;
  log: Logger;
  /** The checkpoint file every verification checks the chain against (AUDIT_CHECKPOINT_PATH). */
  checkpointPath: string | null;
  hooks?: VerificationHooks;
}): VerificationRunner {
  const { database, clock, log, hooks } = options;
  const running = new Map<string, { worker: Worker; ended: Promise<void> }>();

  async function run(id: string, worker: Worker): Promise<void> {
    let progress: VerificationProgress = { asOf: null, auditEntriesChecked: 0, transfersChecked: 0 };
    const renew = () =>
      inTransaction(database.db, (trx) => renewLease(trx, id, clock(), progress)).catch((error: unknown) =>
        log.warn('verification lease not renewed', { id, error }),
      );
    const heartbeat = setInterval(renew, HEARTBEAT_SECONDS * 1000);
    heartbeat.unref();
    const outcome = await new Promise<Outcome>((resolve) => {
      worker.on('message', (m: WorkerMessage) => {
        if (m.type === 'snapshot') {
          progress = { ...progress, asOf: m.asOf };
          const go = () => worker.postMessage('go');
          if (hooks?.afterSnapshot) hooks.afterSnapshot(id).then(go, go);
        } else if (m.type === 'progress') progress = { ...progress, ...m.progress };
        else if (m.type === 'done') resolve({ report: m.report });
        else resolve({ error: `The check could not be completed: ${m.error}` });
      });
      worker.on('error', (error) => resolve({ error: `The check could not be completed: ${error.message}` }));
      worker.on('exit', (code) => resolve({ error: `The check stopped before it finished (its thread exited with code ${code}).` }));
    });
    clearInterval(heartbeat);
    await worker.terminate();
    try {
      const recorded = await inTransaction(database.db, (trx) =>
        finishVerification(
          trx,
          id,
          clock(),
          'report' in outcome ? { report: outcome.report, progress } : { error: outcome.error, progress },
        ),
      );
      if (!recorded) log.warn('verification ended after it had been recorded as interrupted', { id });
    } catch (error) {
      log.error('verification outcome not recorded', { id, error });
    }
  }

  return {
    start(id, checkpoints) {
      const task: VerificationTask = {
        config: database.config,
        auditKey: auditKey(),
        checkpointPath: options.checkpointPath,
        checkpoints,
        checkedAt: clock().toISOString(),
        holdAfterSnapshot: hooks?.afterSnapshot !== undefined,
      };
      const worker = new Worker(THREAD, { workerData: { entry: ENTRY, task } });
      // A verification in flight does not keep a process alive that has nothing else to do.
      worker.unref();
      const ended = run(id, worker).finally(() => running.delete(id));
      running.set(id, { worker, ended });
    },
    async idle() {
      while (running.size > 0) await Promise.all([...running.values()].map((r) => r.ended));
    },
    async close() {
      const stopping = [...running.values()];
      await Promise.all(stopping.map((r) => r.worker.terminate()));
      await Promise.all(stopping.map((r) => r.ended));
    },
  };
}
