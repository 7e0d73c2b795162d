// The two directions of one line side by side: the server's trace back to a
// visitor and the visitor's own trace to the server. Routers answer from a
// different interface each way, so hops are lined up by the same address or,
// failing that, the same network (/24, /48), in path order. Then what differs:
// the line each way, carriers seen one way only, loss at the far end seen from
// one side only. Each note has a code and its words in both languages.
import ipaddr from 'ipaddr.js';
import type { Language, TextParams } from '../i18n.js';
import { lineName } from './lines.js';

export interface DirectionHop {
  ttl: number;
  address: string | null;
  /** The carrier tag (CN2, 163, ...), when the address is a known carrier's. */
  carrier: string | null;
  lossPercent: number | null;
}

export interface Direction {
  hops: DirectionHop[];
  verdict: string;
}

/** A forward hop and a return hop that are (most likely) the same router. */
export interface HopPair {
  forwardTtl: number;
  reverseTtl: number;
  by: 'address' | 'network';
}

export type AsymmetryCode = 'different-lines' | 'carriers-one-way' | 'loss-one-way' | 'same-line';

export interface AsymmetryNote {
  code: AsymmetryCode;
  params: TextParams;
  text: Record<Language, string>;
}

export interface Comparison {
  pairs: HopPair[];
  notes: AsymmetryNote[];
}

/** Loss at the last hop above this, with under LOSS_NONE the other way, is "seen one way only". */
const LOSS_SOME = 2;
const LOSS_NONE = 0.5;

const DIRECTION_NAME: Record<'forward' | 'reverse', Record<Language, string>> = {
  forward: { en: 'to the server (uploaded)', zh: '去程（上传的）' },
  reverse: { en: 'back to the visitor (measured)', zh: '回程（服务器实测）' },
};

const TEXTS: Record<AsymmetryCode, Record<Language, (p: TextParams) => string>> = {
  'same-line': {
    en: (p) => `Both directions use the same line: ${p.line}.`,
    zh: (p) => `去程和回程是同一条线路：${p.lineZh}。`,
  },
  'different-lines': {
    en: (p) => `The line differs by direction: ${p.forward} to the server, ${p.reverse} back.`,
    zh: (p) => `去回程线路不同：去程 ${p.forwardZh}，回程 ${p.reverseZh}。`,
  },
  'carriers-one-way': {
    en: (p) => `${p.carriers} only on the way ${p.directionEn}.`,
    zh: (p) => `${p.carriers} 只出现在${p.directionZh}。`,
  },
  'loss-one-way': {
    en: (p) =>
      `Loss at the far end shows only ${p.directionEn} (${p.loss} %); the other side's probes get through, ` +
      'so the loss is on a part of the path only that side uses.',
    zh: (p) => `只有${p.directionZh}在终点有丢包（${p.loss}%），另一方向的探测正常，丢包发生在只有这一方向经过的路段。`,
  },
};

function note(code: AsymmetryCode, params: TextParams): AsymmetryNote {
  return { code, params, text: { en: TEXTS[code].en(params), zh: TEXTS[code].zh(params) } };
}

/** The /24 (IPv4) or /48 (IPv6) an address is in, as text. */
export function networkOf(address: string): string | null {
  if (!ipaddr.isValid(address)) return null;
  const a = ipaddr.process(address);
  const bits = a.kind() === 'ipv4' ? 24 : 48;
  const bytes = a.toByteArray();
  const keep = bits / 8;
  return `${a.kind()}:${bytes.slice(0, keep).join('.')}`;
}

/**
 * Line the directions up. The return trace runs the other way, so forward hop i pairs with a return
 * hop further from the server than the last pair: each pairing keeps both paths in order.
 */
export function pairHops(forward: DirectionHop[], reverse: DirectionHop[]): HopPair[] {
  const pairs: HopPair[] = [];
  let below = Infinity;
  for (const f of [...forward].sort((a, b) => a.ttl - b.ttl)) {
    if (!f.address) continue;
    // Nearest the visitor first: the forward path starts there.
    const candidates = reverse.filter((r) => r.address && r.ttl < below).sort((a, b) => b.ttl - a.ttl);
    const net = networkOf(f.address);
    const same = candidates.find((r) => r.address === f.address);
    const near = same ? undefined : candidates.find((r) => r.address && net && networkOf(r.address) === net);
    const match = same ?? near;
    if (!match) continue;
    pairs.push({ forwardTtl: f.ttl, reverseTtl: match.ttl, by: same ? 'address' : 'network' });
    below = match.ttl;
  }
  return pairs;
}

/** Loss at the last hop that answered: a trailing silent hop (100 %, no address) is no far end. */
function lastLoss(hops: DirectionHop[]): number | null {
  const last = [...hops]
    .sort((a, b) => a.ttl - b.ttl)
    .filter((h) => h.address !== null)
    .at(-1);
  return last?.lossPercent ?? null;
}

const round1 = (v: number): string => v.toFixed(1);

export function compareDirections(forward: Direction, reverse: Direction): Comparison {
  const notes: AsymmetryNote[] = [];
  if (forward.verdict === reverse.verdict)
    notes.push(note('same-line', { line: lineName(forward.verdict, 'en'), lineZh: lineName(forward.verdict, 'zh') }));
  else
    notes.push(
      note('different-lines', {
        forward: lineName(forward.verdict, 'en'),
        reverse: lineName(reverse.verdict, 'en'),
        forwardZh: lineName(forward.verdict, 'zh'),
        reverseZh: lineName(reverse.verdict, 'zh'),
      }),
    );
  const carriers = (hops: DirectionHop[]): Set<string> =>
    new Set(hops.map((h) => h.carrier).filter((c): c is string => !!c));
  const there = carriers(forward.hops);
  const back = carriers(reverse.hops);
  for (const [dir, mine, other] of [
    ['forward', there, back],
    ['reverse', back, there],
  ] as const) {
    const only = [...mine].filter((c) => !other.has(c));
    if (only.length)
      notes.push(
        note('carriers-one-way', {
          carriers: only.join(', '),
          direction: dir,
          directionEn: DIRECTION_NAME[dir].en,
          directionZh: DIRECTION_NAME[dir].zh,
        }),
      );
  }
  const lossThere = lastLoss(forward.hops);
  const lossBack = lastLoss(reverse.hops);
  if (lossThere !== null && lossBack !== null)
    for (const [dir, mine, other] of [
      ['forward', lossThere, lossBack],
      ['reverse', lossBack, lossThere],
    ] as const)
      if (mine > LOSS_SOME && other < LOSS_NONE)
        notes.push(
          note('loss-one-way', {
            loss: round1(mine),
            direction: dir,
            directionEn: DIRECTION_NAME[dir].en,
            directionZh: DIRECTION_NAME[dir].zh,
          }),
        );
  return { pairs: pairHops(forward.hops, reverse.hops), notes };
}
