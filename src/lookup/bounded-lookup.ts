// What reverse DNS and AS lookups share: a cache, a queue worked off a few at
// a time, and a timeout after which an answer is given up. Nothing here ever
// makes a caller wait longer than the timeout.

/** Answers kept; a long-running server sees many addresses, so the oldest go first. */
const MAX_CACHED = 20_000;

export abstract class BoundedLookup<T> {
  private readonly results = new Map<string, T | null>();
  private readonly pending = new Map<string, Promise<void>>();
  private readonly queue: string[] = [];
  /** Addresses whose lookup was abandoned at the timeout (their null means "no answer in time"). */
  private readonly expired = new Set<string>();
  private running = 0;

  constructor(
    protected readonly timeoutMs: number,
    private readonly concurrency: number,
  ) {}

  /** Look `address` up; resolves to null when there is no answer. Must not throw. */
  protected abstract lookup(address: string): Promise<T | null>;

  /** The answer if known by now (null: none), undefined while unknown; starts a lookup. */
  protected known(address: string): T | null | undefined {
    if (this.results.has(address)) return this.results.get(address);
    this.request(address);
    return undefined;
  }

  /** True when the lookup of `address` ran out of time rather than finding nothing. */
  gaveUp(address: string): boolean {
    return this.expired.has(address);
  }

  request(address: string): void {
    if (this.results.has(address) || this.pending.has(address) || this.queue.includes(address)) return;
    this.queue.push(address);
    this.pump();
  }

  /**
   * Wait for lookups in progress and those still queued behind them (a path
   * has more hops than lookups run at once), but never longer than the timeout.
   */
  async settle(): Promise<void> {
    let late = false;
    const deadline = new Promise<void>((resolve) =>
      setTimeout(() => {
        late = true;
        resolve();
      }, this.timeoutMs).unref(),
    );
    while (!late && (this.pending.size > 0 || this.queue.length > 0))
      await Promise.race([Promise.all([...this.pending.values()]), deadline]);
  }

  private pump(): void {
    while (this.running < this.concurrency) {
      const address = this.queue.shift();
      if (address === undefined) break;
      this.running++;
      const work = this.withTimeout(address).finally(() => {
        this.running--;
        this.pending.delete(address);
        this.pump();
      });
      this.pending.set(address, work);
    }
  }

  private async withTimeout(address: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => {
        this.expired.add(address);
        resolve(null);
      }, this.timeoutMs);
      timer.unref();
    });
    const answer = await Promise.race([this.lookup(address).catch(() => null), timeout]);
    clearTimeout(timer);
    this.results.set(address, answer);
    if (this.results.size > MAX_CACHED) {
      const oldest = this.results.keys().next();
      if (!oldest.done) {
        this.results.delete(oldest.value);
        this.expired.delete(oldest.value);
      }
    }
  }
}
