// Alert rules and their webhook (TO BE WRITTEN: see the brief). Stub so the command compiles.
import type { WatchStore } from './store.js';
import type { Watcher } from './watcher.js';

// biome-ignore lint/complexity/noBannedTypes: stub
export type AlertSettings = {};

export function readAlertSettings(_file: string): AlertSettings {
  return {};
}

export class Alerts {
  constructor(
    readonly settings: AlertSettings,
    readonly opts: { store: WatchStore },
  ) {}
  watch(_w: Watcher): void {}
  async close(): Promise<void> {}
}
