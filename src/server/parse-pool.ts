// Visitors' text is parsed off the main thread, within limits: a few worker
// threads, each with a memory limit, each job with a deadline. A parse that
// runs over is killed (its worker replaced) and answered with one line, so no
// upload can stall the event loop that serves everyone else.
import { Worker } from 'node:worker_threads';
import type { ImportedTrace } from '../route/import.js';
import type { ParseJob, ParseReply } from './parse-worker.js';
import type { Refusal } from './refusals.js';

export interface ParsePoolOptions {
  workers: number;
  /** Longest one parse may take, in ms. */
  deadlineMs: number;
  /** Heap a worker may use, in MB. */
  memoryMb: number;
  /** Jobs waiting for a worker beyond this are refused (503). */
  queue: number;
}

export type ParseOutcome =
  | { ok: true; trace: ImportedTrace }
  | { ok: false; status: 400 | 422 | 503; reason: 'invalid' | 'parse-limit' | 'busy'; refusal: Refusal };

interface Job {
  id: number;
  text: string;
  resolve: (o: ParseOutcome) => void;
}

// Built, the worker is JavaScript. Under tsx (the tests run the sources) it is TypeScript, and a worker
// thread does not inherit tsx's loader: a two-line bootstrap registers it first.
const SOURCE = import.meta.url.endsWith('.ts');
const WORKER = new URL(SOURCE ? './parse-worker.ts' : './parse-worker.js', import.meta.url);

function startWorker(memoryMb: number): Worker {
  const resourceLimits = { maxOldGenerationSizeMb: memoryMb };
  if (!SOURCE) return new Worker(WORKER, { resourceLimits });
  const bootstrap =
    "import('tsx/esm/api').then((m) => { m.register(); " + `return import(${JSON.stringify(WORKER.href)}); });`;
  return new Worker(bootstrap, { eval: true, resourceLimits });
}

class Slot {
  worker: Worker;
  job: Job | undefined;
  timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pool: ParsePool,
    memoryMb: number,
  ) {
    this.worker = startWorker(memoryMb);
    this.worker.unref();
    this.worker.on('message', (reply: ParseReply) => this.pool.finished(this, reply));
    this.worker.on('error', (err: Error & { code?: string }) =>
      this.pool.failed(this, err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'memory' : 'exit'),
    );
    this.worker.on('exit', () => this.pool.failed(this, 'exit'));
  }
}

export class ParsePool {
  private readonly slots: Slot[] = [];
  private readonly waiting: Job[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly opts: ParsePoolOptions) {
    for (let i = 0; i < opts.workers; i++) this.slots.push(new Slot(this, opts.memoryMb));
  }

  parse(text: string): Promise<ParseOutcome> {
    if (this.closed) return Promise.resolve(busy('shutting-down'));
    if (this.waiting.length >= this.opts.queue) return Promise.resolve(busy('parse-busy'));
    return new Promise((resolve) => {
      this.waiting.push({ id: this.nextId++, text, resolve });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.waiting.splice(0)) job.resolve(busy('shutting-down'));
    await Promise.all(
      this.slots.map((s) => {
        if (s.timer) clearTimeout(s.timer);
        s.job?.resolve(busy('shutting-down'));
        s.job = undefined;
        return s.worker.terminate();
      }),
    );
  }

  /** A worker answered its job. */
  finished(slot: Slot, reply: ParseReply): void {
    const job = slot.job;
    if (!job || job.id !== reply.id) return;
    this.release(slot);
    job.resolve(
      reply.ok
        ? { ok: true, trace: reply.trace }
        : {
            ok: false,
            status: 400,
            reason: 'invalid',
            refusal: { code: 'report-unreadable', params: { detail: reply.message } },
          },
    );
  }

  /** A worker died (out of memory) or was killed at its deadline: its job gets one line, it gets replaced. */
  failed(slot: Slot, why: 'memory' | 'exit' | 'deadline'): void {
    const job = slot.job;
    this.release(slot);
    const at = this.slots.indexOf(slot);
    if (at >= 0 && !this.closed) {
      if (why === 'deadline') void slot.worker.terminate();
      slot.worker.removeAllListeners();
      this.slots[at] = new Slot(this, this.opts.memoryMb);
    }
    if (job)
      job.resolve({
        ok: false,
        status: 422,
        reason: 'parse-limit',
        refusal:
          why === 'deadline'
            ? { code: 'parse-deadline', params: { ms: this.opts.deadlineMs } }
            : why === 'memory'
              ? { code: 'parse-memory', params: { mb: this.opts.memoryMb } }
              : { code: 'parse-failed' },
      });
    this.pump();
  }

  private release(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.job = undefined;
    this.pump();
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.job || this.closed) continue;
      const job = this.waiting.shift();
      if (!job) return;
      slot.job = job;
      slot.timer = setTimeout(() => this.failed(slot, 'deadline'), this.opts.deadlineMs);
      slot.worker.postMessage({ id: job.id, text: job.text } satisfies ParseJob);
    }
  }
}

function busy(code: 'shutting-down' | 'parse-busy'): ParseOutcome {
  return { ok: false, status: 503, reason: 'busy', refusal: { code } };
}
