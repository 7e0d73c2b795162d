// When probes are due, and when the wall clock jumped under them. Kernel
// receive stamps are CLOCK_REALTIME, so a step of the wall clock moves every
// RTT and deadline of the probes out at that moment; CLOCK_MONOTONIC does not
// move, so the difference of the two tells a step from NTP's slewing.

/** A realtime-vs-monotonic move bigger than this (beyond NTP slewing) is a clock step. */
export const CLOCK_STEP_NS = 2e6;

/** Watches CLOCK_REALTIME - CLOCK_MONOTONIC; `step()` says how far the wall clock jumped since last asked. */
export class ClockWatch {
  private offset: number;

  constructor(private readonly read: () => number) {
    this.offset = read();
  }

  /** The jump in ns since the last call, or 0 when the clocks moved together. */
  step(): number {
    const offset = this.read();
    const delta = offset - this.offset;
    this.offset = offset;
    return Math.abs(delta) < CLOCK_STEP_NS ? 0 : delta;
  }
}

/** Min-heap of probes by deadline; entries already finished are skipped when popped. */
export class DeadlineHeap<E extends { deadlineNs: number }> {
  private items: E[] = [];

  /** The entry at heap index `i`, which the caller knows to be in range. */
  private at(i: number): E {
    const e = this.items[i];
    if (e === undefined) throw new Error(`internal: the deadline heap has no entry ${i} (size ${this.items.length})`);
    return e;
  }

  push(e: E): void {
    const a = this.items;
    let i = a.length;
    a.push(e);
    // Sift up: parents later than `e` move down into the hole until `e`'s place is found.
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = this.at(p);
      if (parent.deadlineNs <= e.deadlineNs) break;
      a[i] = parent;
      i = p;
    }
    a[i] = e;
  }

  peek(): E | undefined {
    return this.items[0];
  }

  pop(): E | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    // Sift down: `last` falls from the root, the earlier child moving up into
    // the hole, until neither child is earlier than `last`.
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      let earliest = last;
      if (l < a.length) {
        const left = this.at(l);
        if (left.deadlineNs < earliest.deadlineNs) {
          m = l;
          earliest = left;
        }
      }
      if (r < a.length) {
        const right = this.at(r);
        if (right.deadlineNs < earliest.deadlineNs) {
          m = r;
          earliest = right;
        }
      }
      if (m === i) break;
      a[i] = earliest;
      i = m;
    }
    a[i] = last;
    return top;
  }

  clear(): void {
    this.items = [];
  }

  rebuild(): void {
    const old = this.items;
    this.items = [];
    for (const e of old) this.push(e);
  }
}
