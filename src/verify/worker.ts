import { parentPort, workerData } from 'node:worker_threads';
import { configureAuditKey, type KeptCheckpoint } from '../audit/audit.ts';
import type { IntegrityProgress } from '../audit/integrity.ts';
import type { DatabaseConfig } from '../config.ts';
import { inReadSnapshotOf } from '../db/snapshot.ts';
import { snapshotExtent, type VerificationReport, verificationReport } from './report.ts';

/*
 * One verification, in a worker thread of its own (./runner.ts starts it): it opens its own
 * connection, reads one snapshot (src/db/snapshot.ts) and works out the report there, so the
 * service's event loop and its connection stay free for requests and writers. It tells the
 * runner when it has its snapshot, how far it has got, and the report.
 */

/** What the runner gives the thread. */
export interface VerificationTask {
  config: DatabaseConfig;
  auditKey: string;
  checkpointPath: string | null;
  checkpoints: KeptCheckpoint[];
  /** The report's `checkedAt`: when the verification was started. */
  checkedAt: string;
  /** Wait for the runner's `go` once the snapshot is taken (it lets its caller act then). */
  holdAfterSnapshot: boolean;
}

/** What the thread tells the runner. */
export type WorkerMessage =
  | { type: 'snapshot'; asOf: { auditPosition: string; lastTransferSeq: string } }
  | { type: 'progress'; progress: IntegrityProgress }
  | { type: 'done'; report: VerificationReport }
  | { type: 'failed'; error: string };

const port = parentPort;
if (!port) throw new Error('src/verify/worker.ts runs as a worker thread (src/verify/runner.ts starts it)');
const task = (workerData as { task: VerificationTask }).task;
const tell = (m: WorkerMessage) => port.postMessage(m);

configureAuditKey(task.auditKey);
try {
  const report = await inReadSnapshotOf(task.config, async (trx) => {
    tell({ type: 'snapshot', asOf: await snapshotExtent(trx) });
    if (task.holdAfterSnapshot) await new Promise((go) => port.once('message', go));
    return verificationReport(trx, new Date(task.checkedAt), {
      checkpointPath: task.checkpointPath,
      checkpoints: task.checkpoints,
      onProgress: (progress) => tell({ type: 'progress', progress }),
    });
  });
  tell({ type: 'done', report });
} catch (error) {
  tell({ type: 'failed', error: error instanceof Error ? error.message : String(error) });
}
port.close();
