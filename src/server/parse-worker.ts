// A worker of the parse pool (parse-pool.ts): reads visitors' trace text off
// the server's main thread. One job at a time; the pool kills it if it runs
// over its deadline or its memory.
import { parentPort } from 'node:worker_threads';
import { isVpslineError } from '../errors.js';
import { importTrace } from '../route/import.js';

export interface ParseJob {
  id: number;
  text: string;
}

export type ParseReply =
  | { id: number; ok: true; trace: ReturnType<typeof importTrace> }
  | { id: number; ok: false; message: string };

parentPort?.on('message', (job: ParseJob) => {
  let reply: ParseReply;
  try {
    reply = { id: job.id, ok: true, trace: importTrace(job.text) };
  } catch (err) {
    reply = { id: job.id, ok: false, message: isVpslineError(err) ? err.message : 'the trace could not be read' };
  }
  parentPort?.postMessage(reply);
});
