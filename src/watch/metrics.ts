// Prometheus metrics of a watch (TO BE WRITTEN: see the brief). Stub so the command compiles.
import { Registry } from 'prom-client';
import type { WatchStore } from './store.js';
import type { Watcher } from './watcher.js';

export class WatchMetrics {
  constructor(
    readonly watcher: Watcher,
    readonly store: WatchStore,
    /** The registry to add to (the looking glass's own, under serve); a new one by default. */
    readonly registry: Registry = new Registry(),
  ) {}
}

export async function serveWatchMetrics(
  _listen: string,
  _metrics: WatchMetrics,
): Promise<{ address: string; close(): Promise<void> }> {
  return { address: '', close: async () => {} };
}
