// What a trace says about the path, in words, with the hops that prove it.
// Pure: hops in, findings out. The rules, in short:
// - loss at a hop that the hops after it do not show (beyond chance) is the
//   router limiting or ignoring ICMP, not loss on the path;
// - path loss starts at the first hop from which every answering hop up to
//   the destination loses too;
// - a latency rise is a long link or congestion when every later hop keeps it
//   (judged on each hop's path floor: the lowest Best at or after it) and it
//   is larger than the spread (StDev) of the hops compared; a hop slower than
//   the hops after it is a router slow to answer, not a slow path;
// - jitter: StDev that is high from one hop on and stays high to the end is
//   an unsteady link into that hop (a 40 +- 30 ms link is jitter, not a rise);
// - the destination either answered, said unreachable, or stayed silent
//   (also when nothing answered at all).
import type { Language, TextParams, Texts } from '../i18n.js';
import type { HopSnapshot } from './hop.js';

export type FindingCode =
  | 'clean'
  | 'icmp-rate-limited'
  | 'hop-ignores-icmp'
  | 'path-loss'
  | 'latency-jump'
  | 'slow-responder'
  | 'jitter'
  | 'destination-silent'
  | 'destination-unreachable';

export type Severity = 'info' | 'warning' | 'problem';

export interface Finding {
  code: FindingCode;
  severity: Severity;
  /** TTLs of the hops that are the evidence. */
  hops: number[];
  /** Figures the message quotes (ms, percent, addresses). */
  params: TextParams;
  /** The finding in the requested language. */
  message: string;
}

export interface AnalysisInput {
  hops: HopSnapshot[];
  destinationTtl: number | null;
  protocol: string;
  target: string;
  /** The largest TTL probed (mtr -m): a path still answering there was cut short, not silent. */
  maxTtl?: number;
}

/** A latency rise smaller than this (or than this share of the RTT before it) is noise. */
const JUMP_MIN_MS = 5;
const JUMP_MIN_SHARE = 0.25;
/**
 * A rise (or a slow responder's excess) must also exceed this many StDevs of
 * the hops compared: the lowest of a few samples of a jittery link is a draw,
 * and two draws differ by about the spread without any rise in the path.
 */
const NOISE_K = 2;
/** Jitter worth a finding: StDev at least this, and this share of the path floor there. */
const JITTER_MIN_MS = 5;
const JITTER_MIN_SHARE = 0.1;
/** StDev of fewer samples says nothing. */
const JITTER_MIN_SAMPLES = 3;

/** Loss worth talking about: at least two probes, or a fifth of them. */
function lossy(h: HopSnapshot): boolean {
  return h.lost >= 2 || (h.lossPercent >= 20 && h.lost >= 1);
}

function settled(h: HopSnapshot): number {
  return h.received + h.lost;
}

/** How many standard errors apart two hops' loss must be to tell them apart. */
const LOSS_Z = 2;

/**
 * Hop b loses less than hop a beyond chance (a one-sided two-proportion
 * z-test): with mtr's 10 probes, 4 lost against 1 is still one 30 % link.
 */
function clearlyLess(b: HopSnapshot, a: HopSnapshot): boolean {
  const na = settled(a);
  const nb = settled(b);
  if (na === 0 || nb === 0 || b.lost / nb >= a.lost / na) return false;
  const p = (a.lost + b.lost) / (na + nb);
  return a.lost / na - b.lost / nb >= LOSS_Z * Math.sqrt(p * (1 - p) * (1 / na + 1 / nb));
}

const MESSAGES: Record<FindingCode, Texts> = {
  clean: {
    en: () => 'No loss on the path and no lasting latency rise.',
    zh: () => '线路没有丢包，也没有持续的延迟上升。',
  },
  'icmp-rate-limited': {
    en: (p) =>
      `Hop ${p.ttl} (${p.address}) shows ${p.loss}% loss, but hop ${p.next} after it shows ${p.nextLoss}%: ` +
      'the router limits or deprioritises its ICMP replies. This is not loss on the path.',
    zh: (p) =>
      `第 ${p.ttl} 跳（${p.address}）显示 ${p.loss}% 丢包，但其后的第 ${p.next} 跳只有 ${p.nextLoss}%：` +
      '该路由器限制或降低了 ICMP 回复的优先级，并非线路丢包。',
  },
  'hop-ignores-icmp': {
    en: (p) =>
      `Hop ${p.ttl} never answers, but hop ${p.next} after it does: ` +
      'the router does not send ICMP replies (it disallows ping). This is not loss.',
    zh: (p) => `第 ${p.ttl} 跳始终没有回应，但其后的第 ${p.next} 跳有回应：该路由器不回应 ICMP（禁 ping），并非丢包。`,
  },
  'path-loss': {
    en: (p) =>
      `Loss starts at hop ${p.ttl} (${p.address}, ${p.loss}%) and lasts to ` +
      (p.last !== undefined
        ? `hop ${p.last}, the last that answered (${p.lastLoss}%)`
        : `the destination (${p.destLoss}%)`) +
      (p.prev ? `; hop ${p.prev} before it is clean` : '') +
      ': packets are lost on the path from there on.',
    zh: (p) =>
      `从第 ${p.ttl} 跳（${p.address}，${p.loss}%）开始出现丢包，并一直持续到` +
      (p.last !== undefined ? `最后有回应的第 ${p.last} 跳（${p.lastLoss}%）` : `目标（${p.destLoss}%）`) +
      (p.prev ? `；其前的第 ${p.prev} 跳正常` : '') +
      '：从这里开始线路确有丢包。',
  },
  'latency-jump': {
    en: (p) =>
      `Latency rises by ${p.rise} ms at hop ${p.ttl} (${p.address}, ` +
      `best ${p.best} ms against ${p.prevBest} ms at hop ${p.prev}) and stays up to the destination: ` +
      `a long-distance link or congestion between hop ${p.prev} and hop ${p.ttl}.`,
    zh: (p) =>
      `第 ${p.ttl} 跳（${p.address}）延迟上升 ${p.rise} ms（最低 ${p.best} ms，第 ${p.prev} 跳为 ${p.prevBest} ms），` +
      `并一直保持到目标：第 ${p.prev} 跳与第 ${p.ttl} 跳之间是长距离链路或存在拥塞。`,
  },
  'slow-responder': {
    en: (p) =>
      `Hop ${p.ttl} (${p.address}) answers ${p.extra} ms slower than hop ${p.next} after it: ` +
      'the router is slow to generate ICMP replies; the path is not slower there.',
    zh: (p) =>
      `第 ${p.ttl} 跳（${p.address}）的回应比其后的第 ${p.next} 跳慢 ${p.extra} ms：` +
      '该路由器生成 ICMP 回复较慢，线路本身并未变慢。',
  },
  jitter: {
    en: (p) =>
      `Latency varies by ±${p.stdev} ms (StDev) at hop ${p.ttl} (${p.address})` +
      (p.end !== p.ttl ? ` and stays that unsteady up to hop ${p.end} (±${p.endStdev} ms)` : '') +
      (p.prev ? `; hop ${p.prev} before it varies by ±${p.prevStdev} ms` : '') +
      `: the link into hop ${p.ttl} is congested or unsteady (jitter); single RTTs through it say little.`,
    zh: (p) =>
      `第 ${p.ttl} 跳（${p.address}）延迟抖动大（标准差 ±${p.stdev} ms）` +
      (p.end !== p.ttl ? `，并一直持续到第 ${p.end} 跳（±${p.endStdev} ms）` : '') +
      (p.prev ? `；其前的第 ${p.prev} 跳为 ±${p.prevStdev} ms` : '') +
      `：进入第 ${p.ttl} 跳的链路拥塞或不稳定（抖动），单次延迟参考价值不大。`,
  },
  'destination-silent': {
    en: (p) =>
      p.last === undefined
        ? `The destination ${p.target} did not answer, and neither did any hop on the way ` +
          `(${p.protocol} probes may be blocked near this machine).`
        : p.maxTtl !== undefined
          ? `The destination ${p.target} did not answer within ${p.maxTtl} hops: hop ${p.last} (${p.address}) ` +
            'still answers, so the path is longer (raise -m).'
          : `The destination ${p.target} did not answer (it may drop ${p.protocol} probes); ` +
            `the last hop that answered is hop ${p.last} (${p.address})` +
            (p.lastLoss !== undefined
              ? `, with ${p.lastLoss}% loss that no later hop can confirm or rule out as loss on the path.`
              : '.'),
    zh: (p) =>
      p.last === undefined
        ? `目标 ${p.target} 没有回应，沿途也没有任何一跳回应（${p.protocol} 探测包可能在本机附近被拦截）。`
        : p.maxTtl !== undefined
          ? `目标 ${p.target} 在 ${p.maxTtl} 跳以内没有回应：第 ${p.last} 跳（${p.address}）仍有回应，` +
            '线路更长（请增大 -m）。'
          : `目标 ${p.target} 没有回应（可能丢弃了 ${p.protocol} 探测包）；最后有回应的是第 ${p.last} 跳（${p.address}）` +
            (p.lastLoss !== undefined ? `，其 ${p.lastLoss}% 丢包无法由后续跳确认是否为线路丢包。` : '。'),
  },
  'destination-unreachable': {
    en: (p) => `Hop ${p.ttl} (${p.address}) answered that the destination is unreachable (${p.reason}).`,
    zh: (p) => `第 ${p.ttl} 跳（${p.address}）回应目标不可达（${p.reason}）。`,
  },
};

const SEVERITY: Record<FindingCode, Severity> = {
  clean: 'info',
  'icmp-rate-limited': 'info',
  'hop-ignores-icmp': 'info',
  'path-loss': 'problem',
  'latency-jump': 'warning',
  'slow-responder': 'info',
  jitter: 'warning',
  'destination-silent': 'warning',
  'destination-unreachable': 'problem',
};

const fmt = (v: number): number => Math.round(v * 10) / 10;

/** A hop's spread; 0 (unknown) below two samples. */
const spread = (h: HopSnapshot): number => (h.stats.received > 1 ? h.stats.stdev : 0);

/** Findings for a trace report. */
export function analyzeReport(
  report: {
    hops: HopSnapshot[];
    destinationTtl: number | null;
    mode: { protocol: string };
    target: string;
    settings?: { maxTtl: number };
  },
  lang: Language = 'en',
): Finding[] {
  return analyze(
    {
      hops: report.hops,
      destinationTtl: report.destinationTtl,
      protocol: report.mode.protocol,
      target: report.target,
      ...(report.settings ? { maxTtl: report.settings.maxTtl } : {}),
    },
    lang,
  );
}

/** Findings about a finished (or running) trace, in `lang`. */
export function analyze(input: AnalysisInput, lang: Language = 'en'): Finding[] {
  const out: Finding[] = [];
  const add = (code: FindingCode, hops: number[], params: TextParams = {}): void => {
    out.push({ code, severity: SEVERITY[code], hops, params, message: MESSAGES[code][lang](params) });
  };
  const hops = input.hops.filter((h) => settled(h) > 0);
  // Nothing settled yet (a live view's first moments): no evidence either way.
  if (hops.length === 0) return out;
  const answering = hops.filter((h) => h.received > 0);
  const dest = input.destinationTtl !== null ? hops.find((h) => h.ttl === input.destinationTtl) : undefined;
  const after = (h: HopSnapshot): HopSnapshot[] => answering.filter((x) => x.ttl > h.ttl);

  // 1. Loss: a router's own ICMP habits, or loss on the path?
  let pathLossAt: HopSnapshot | undefined;
  for (const h of answering) {
    if (!lossy(h)) continue;
    const later = after(h);
    const [first] = later;
    if (first === undefined) {
      // Nothing answers after it: its loss is the path's if it is the
      // destination; otherwise there is no later hop to compare it with, and
      // a silent destination is said below.
      if (h === dest) pathLossAt ??= h;
      continue;
    }
    // Path loss from here: every later answering hop loses too (at least half as much).
    if (later.every((x) => lossy(x) && x.lossPercent >= h.lossPercent / 2)) {
      pathLossAt ??= h;
      continue;
    }
    // The evidence: a later hop with much less loss, else one that breaks the
    // path-loss rule with less loss, and in either case less beyond chance.
    // None: the probes cannot tell the router from the path, so nothing is said.
    const next =
      later.find((x) => x.lossPercent < h.lossPercent / 2 && clearlyLess(x, h)) ??
      later.find((x) => !lossy(x) && clearlyLess(x, h));
    if (next && !pathLossAt)
      add('icmp-rate-limited', [h.ttl, next.ttl], {
        ttl: h.ttl,
        address: h.address ?? '???',
        loss: fmt(h.lossPercent),
        next: next.ttl,
        nextLoss: fmt(next.lossPercent),
      });
  }
  for (const h of hops) {
    if (h.received > 0) continue;
    const next = after(h)[0];
    if (next) add('hop-ignores-icmp', [h.ttl, next.ttl], { ttl: h.ttl, next: next.ttl });
  }
  const lastAnswer = answering.at(-1);
  // pathLossAt is one of the answering hops, so lastAnswer is set whenever it is.
  if (pathLossAt !== undefined && lastAnswer !== undefined) {
    const start = pathLossAt;
    const prev = [...answering].reverse().find((x) => x.ttl < start.ttl && !lossy(x));
    add('path-loss', [...(prev ? [prev.ttl] : []), ...answering.filter((x) => x.ttl >= start.ttl).map((x) => x.ttl)], {
      ttl: start.ttl,
      address: start.address ?? '???',
      loss: fmt(start.lossPercent),
      // A silent destination: the loss is known up to the last hop that answered.
      ...(dest ? { destLoss: fmt(dest.lossPercent) } : { last: lastAnswer.ttl, lastLoss: fmt(lastAnswer.lossPercent) }),
      ...(prev ? { prev: prev.ttl } : {}),
    });
  }

  // 2. Latency: lasting rises against slow responders, on each hop's floor (Best).
  const timed = answering.filter((h) => h.stats.received > 0);
  for (const [i, h] of timed.entries()) {
    // The later hop with the lowest Best (the first such): the path floor after h.
    const [first, ...rest] = timed.slice(i + 1);
    if (first === undefined) continue;
    const next = rest.reduce((low, x) => (x.stats.best < low.stats.best ? x : low), first);
    const floorAfter = next.stats.best;
    const extra = h.stats.best - floorAfter;
    // A jittery later hop's Best is a draw, not a floor (h's own spread is its slowness).
    if (extra >= JUMP_MIN_MS && extra >= JUMP_MIN_SHARE * floorAfter && extra >= NOISE_K * spread(next)) {
      add('slow-responder', [h.ttl, next.ttl], {
        ttl: h.ttl,
        address: h.address ?? '???',
        extra: fmt(extra),
        next: next.ttl,
      });
    }
  }
  // The path floor at a hop: the lowest Best at or after it. A hop cannot be
  // farther than the hops behind it, so anything above that is its own
  // slowness; a step in the floor is a rise that lasts to the end.
  const floors = timed.map((hop, i) => {
    // The first hop with the lowest Best at or after i: whose samples the floor is.
    const from = timed.slice(i).reduce((low, x) => (x.stats.best < low.stats.best ? x : low), hop);
    return { hop, floor: from.stats.best, from };
  });
  for (const [i, at] of floors.entries()) {
    const before = floors[i - 1];
    if (before === undefined) continue;
    const rise = at.floor - before.floor;
    if (rise < JUMP_MIN_MS || rise < JUMP_MIN_SHARE * Math.max(before.floor, 1)) continue;
    // Jitter alone moves the lowest of a few samples by about the spread.
    if (rise < NOISE_K * Math.max(spread(before.from), spread(at.from))) continue;
    add('latency-jump', [before.hop.ttl, ...timed.slice(i).map((x) => x.ttl)], {
      ttl: at.hop.ttl,
      address: at.hop.address ?? '???',
      rise: fmt(rise),
      best: fmt(at.floor),
      prev: before.hop.ttl,
      prevBest: fmt(before.floor),
    });
  }

  // 3. Jitter: the first hop from which every timed hop to the end is unsteady.
  const unsteady = (h: HopSnapshot, floor: number): boolean =>
    h.stats.received >= JITTER_MIN_SAMPLES &&
    h.stats.stdev >= JITTER_MIN_MS &&
    h.stats.stdev >= JITTER_MIN_SHARE * floor;
  let from = floors.length;
  while (from > 0) {
    const f = floors[from - 1];
    if (f === undefined || !unsteady(f.hop, f.floor)) break;
    from--;
  }
  const start = timed[from];
  const end = timed.at(-1);
  if (start !== undefined && end !== undefined) {
    const prev = timed[from - 1];
    add('jitter', [...(prev ? [prev.ttl] : []), ...timed.slice(from).map((x) => x.ttl)], {
      ttl: start.ttl,
      address: start.address ?? '???',
      stdev: fmt(start.stats.stdev),
      end: end.ttl,
      endStdev: fmt(end.stats.stdev),
      ...(prev ? { prev: prev.ttl, prevStdev: fmt(prev.stats.stdev) } : {}),
    });
  }

  // 4. The destination.
  const last = hops.at(-1);
  if (last?.unreachable) {
    add('destination-unreachable', [last.ttl], {
      ttl: last.ttl,
      address: last.address ?? '???',
      reason: last.unreachable,
    });
  } else if (input.destinationTtl === null) {
    // Evidence: the last hop that answered and the silent hops probed after it.
    const silentAfter = hops.filter((h) => h.ttl > (lastAnswer?.ttl ?? -1)).map((h) => h.ttl);
    const params: TextParams = { target: input.target, protocol: input.protocol.toUpperCase() };
    if (lastAnswer) {
      params.last = lastAnswer.ttl;
      params.address = lastAnswer.address ?? '???';
      if (lastAnswer.ttl === input.maxTtl) params.maxTtl = input.maxTtl;
      else if (lossy(lastAnswer)) params.lastLoss = fmt(lastAnswer.lossPercent);
    }
    add('destination-silent', [...(lastAnswer ? [lastAnswer.ttl] : []), ...silentAfter], params);
  }
  // Clean needs a hop that answered to vouch for it (not a reset trace's silent first moments).
  if (answering.length > 0 && !out.some((f) => f.severity !== 'info'))
    add(
      'clean',
      answering.map((h) => h.ttl),
    );
  return out;
}
