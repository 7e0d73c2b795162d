// Per-hop latency statistics with mtr's meanings, computed in floating point.
// mtr keeps integer microseconds and truncates its running mean at every step
// (ui/net.c); here nothing is truncated, so Avg and StDev are exact.

/** mtr's statistics for one hop (times in ms). */
export interface LatencyStats {
  /** Replies received (mtr Rcv). */
  received: number;
  /** Newest RTT (Last). */
  last: number;
  best: number;
  worst: number;
  /** Arithmetic mean (Avg). */
  mean: number;
  /** Sample standard deviation (StDev), 0 with fewer than two samples. */
  stdev: number;
  /** Geometric mean (Gmean). */
  gmean: number;
  /** |RTT - previous RTT| of the newest reply (Jttr). */
  jitter: number;
  /** Mean of the jitter samples (Javg); the first reply gives none. */
  jitterMean: number;
  /** Largest jitter (Jmax). */
  jitterMax: number;
  /** RFC 3550 interarrival jitter estimate (Jint), unscaled (mtr shows it x16). */
  jitterInterarrival: number;
}

export class LatencyAccumulator {
  private n = 0;
  private mean = 0;
  private m2 = 0;
  private logSum = 0;
  private zeroSeen = false;
  private last = 0;
  private best = Infinity;
  private worst = -Infinity;
  private jitter = 0;
  private jitterSum = 0;
  private jitterMax = 0;
  private jint = 0;

  add(rttMs: number): void {
    if (this.n > 0) {
      this.jitter = Math.abs(rttMs - this.last);
      this.jitterSum += this.jitter;
      this.jitterMax = Math.max(this.jitterMax, this.jitter);
      this.jint += (this.jitter - this.jint) / 16;
    }
    this.last = rttMs;
    this.n++;
    const delta = rttMs - this.mean;
    this.mean += delta / this.n;
    this.m2 += delta * (rttMs - this.mean);
    if (rttMs > 0) this.logSum += Math.log(rttMs);
    else this.zeroSeen = true;
    this.best = Math.min(this.best, rttMs);
    this.worst = Math.max(this.worst, rttMs);
  }

  /**
   * exp(mean of logs), kept within [Best, Avg] where it belongs (AM-GM): the
   * rounding of a long sum of logs put it above Avg, or below Best for
   * equal samples, by up to 1e-12 relative.
   */
  private geometricMean(): number {
    return Math.min(this.mean, Math.max(this.best, Math.exp(this.logSum / this.n)));
  }

  get count(): number {
    return this.n;
  }

  snapshot(): LatencyStats {
    const n = this.n;
    return {
      received: n,
      last: n ? this.last : 0,
      best: n ? this.best : 0,
      worst: n ? this.worst : 0,
      mean: n ? this.mean : 0,
      stdev: n > 1 ? Math.sqrt(this.m2 / (n - 1)) : 0,
      gmean: n && !this.zeroSeen ? this.geometricMean() : 0,
      jitter: this.jitter,
      jitterMean: n > 1 ? this.jitterSum / (n - 1) : 0,
      jitterMax: this.jitterMax,
      jitterInterarrival: this.jint,
    };
  }
}
