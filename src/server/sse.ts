// Server-sent events with backpressure. A viewer that reads slower than the
// trace changes does not make the server buffer every change: while the
// socket is full, only the newest event of each name waits (each progress
// event carries the whole state, so older ones are worthless), and a viewer
// that stays full past MAX_PENDING_BYTES is cut off.
import type { ServerResponse } from 'node:http';

/** A stream whose socket has held this much unsent data is closed (a reader that stopped reading). */
const MAX_PENDING_BYTES = 1024 * 1024;
const HEARTBEAT_MS = 15_000;

export interface EventStream {
  /** Queue an event; the newest of its name replaces one still waiting. */
  send(event: string, data: unknown): void;
  /** Send what waits, then end the response. */
  end(): void;
  readonly closed: boolean;
}

export function openEventStream(res: ServerResponse, onClose: () => void): EventStream {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    'x-accel-buffering': 'no',
    connection: 'keep-alive',
    'x-content-type-options': 'nosniff',
  });
  const waiting = new Map<string, string>();
  let closed = false;
  let ending = false;
  const heartbeat = setInterval(() => {
    if (!res.writableNeedDrain) res.write(': keep-alive\n\n');
  }, HEARTBEAT_MS);
  const close = (): void => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    waiting.clear();
    onClose();
    res.end();
  };
  const flush = (): void => {
    for (const [event, frame] of waiting) {
      waiting.delete(event);
      if (!res.write(frame)) break;
    }
    if (ending && !waiting.size) close();
  };
  res.on('drain', flush);
  res.on('close', close);
  return {
    send(event, data) {
      if (closed) return;
      const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
      if (res.writableNeedDrain || waiting.size) {
        waiting.delete(event);
        waiting.set(event, frame);
        if (res.writableLength > MAX_PENDING_BYTES) close();
        return;
      }
      res.write(frame);
    },
    end() {
      ending = true;
      if (!res.writableNeedDrain) flush();
    },
    get closed() {
      return closed;
    },
  };
}
