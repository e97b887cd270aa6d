// The thread a verification runs in (./runner.ts). The service runs its TypeScript through tsx,
// and a worker thread does not inherit the hooks that load it, so the thread registers them
// itself before loading the verification.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
