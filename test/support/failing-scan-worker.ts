/**
 * A PII scan thread gone wrong, for test/pii-scanner.test.ts: `workerData`-free, it reads its behaviour from the
 * first text of each job: "exit" kills the thread mid-job, "garbage" answers for other texts, "throw" fails the job.
 */
import { parentPort } from 'node:worker_threads';

parentPort?.on('message', ({ id, job }: { id: number; job: { texts: string[] } }) => {
  const mode = job.texts[0]?.slice(0, 7);
  if (mode === 'exit ..') process.exit(3);
  if (mode === 'garbage') parentPort!.postMessage({ id, result: [new Int32Array([0, 0, 1])] });
  else parentPort!.postMessage({ id, error: 'scan failed' });
});
