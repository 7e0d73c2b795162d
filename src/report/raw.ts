// mtr's raw format (`-l`): one event per line, as it happens. Hop numbers are
// 0-based like mtr's. `x <hop> <seq>` probe sent, `h <hop> <address>` a new
// responder (once, not twice as mtr 0.95 prints it), `p <hop> <rtt µs> <seq>`
// a reply, `d <hop> <name>` a resolved name, `m <hop> <label> <tc> <s> <ttl>`
// an MPLS label. Lost probes are `x` lines without a `p`.
import type { Trace } from '../trace/trace.js';

export function streamRaw(
  trace: Trace,
  write: (line: string) => void,
  opts: { mpls?: boolean } = {},
): { named(ttl: number, name: string): void } {
  const seen = new Map<number, Set<string>>();
  trace.on('sent', (e) => write(`x ${e.ttl - 1} ${e.key}`));
  trace.on('probe', (e) => {
    const reply = e.result.reply;
    if (e.result.status !== 'reply' || !reply) return;
    const hop = e.ttl - 1;
    let addrs = seen.get(hop);
    if (!addrs) {
      addrs = new Set();
      seen.set(hop, addrs);
    }
    if (!addrs.has(reply.from)) {
      addrs.add(reply.from);
      write(`h ${hop} ${reply.from}`);
      if (opts.mpls) for (const l of reply.mpls ?? []) write(`m ${hop} ${l.label} ${l.tc} ${l.s} ${l.ttl}`);
    }
    if (e.result.rttMs !== null) write(`p ${hop} ${Math.round(e.result.rttMs * 1000)} ${e.result.key}`);
  });
  return { named: (ttl, name) => write(`d ${ttl - 1} ${name}`) };
}
