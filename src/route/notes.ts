// The classifier's notes, in English and Chinese. A note is a code and its
// parameters; Classification.notes keeps the English text (what --json has
// always printed) and noteCodes the codes, from which pages and tables that
// speak Chinese make theirs.
import type { Language, TextParams, Texts } from '../i18n.js';

export type NoteParams = TextParams;

/** "2 hop(s) did not answer, MPLS tunnels may hide hops" from the counts in p. */
function hiders(p: NoteParams, lang: Language): string {
  const parts =
    lang === 'zh'
      ? [
          p.silent ? `${p.silent} 跳无回应` : '',
          p.hidden ? `${p.hidden} 跳为私有或运营商 NAT 地址` : '',
          p.mpls ? 'MPLS 隧道可能隐藏了部分跳' : '',
        ]
      : [
          p.silent ? `${p.silent} hop(s) did not answer` : '',
          p.hidden ? `${p.hidden} hop(s) have private or carrier-NAT addresses` : '',
          p.mpls ? 'MPLS tunnels may hide hops' : '',
        ];
  return parts.filter(Boolean).join(lang === 'zh' ? '，' : ', ');
}

const TEMPLATES = {
  approximate: {
    en: (p) => `${p.carrier}: its prefixes do not come from routing data.`,
    zh: (p) => `${p.carrier}：前缀不是来自路由数据。`,
  },
  'nothing-answered': {
    en: (p) =>
      hiders(p, 'en') ? `No Chinese carrier hop answered: ${hiders(p, 'en')}.` : 'No Chinese carrier hop answered.',
    zh: (p) => (hiders(p, 'zh') ? `没有中国运营商的跳回应：${hiders(p, 'zh')}。` : '没有中国运营商的跳回应。'),
  },
  'no-backbone': {
    en: () => 'No hop belongs to a Chinese carrier, by prefix or by AS.',
    zh: () => '没有一跳属于中国运营商（按前缀或 AS 号）。',
  },
  'one-hop': {
    en: (p) => `Only one ${p.what} hop answered (hop ${p.ttl}): the line rests on that one hop.`,
    zh: (p) => `只有一跳 ${p.what} 回应（第 ${p.ttl} 跳）：结论只依据这一跳。`,
  },
  'hidden-in-part': {
    en: (p) => `${p.count} hop(s) inside the carrier's part of the path did not show their address; ${p.what}.`,
    zh: (p) => `运营商路段内有 ${p.count} 跳未显示地址；${p.what}。`,
  },
  'access-only': {
    en: (p) =>
      `No long-haul hop answered, only the provincial network (${p.carrier}); ` +
      "the line is read from that network's carrier and is a guess.",
    zh: (p) => `没有骨干网的跳回应，只有省网（${p.carrier}）；线路按该网所属运营商推断，仅供参考。`,
  },
  'handoff-163': {
    en: (p) =>
      `One 202.97 hop where the path leaves China Telecom for ${p.next}: the carriers' interconnect, ` +
      'not a domestic 163 leg, so CN2 GIA.',
    zh: (p) => `路径离开电信、进入 ${p.next} 处有一跳 202.97：这是运营商之间的互联点，不是国内 163 段，仍为 CN2 GIA。`,
  },
  'flows-differ': {
    en: (p) => `The ${p.flows} flows did not all take one line: ${p.lines}. The route is load-balanced between lines.`,
    zh: (p) => `${p.flows} 条流没有走同一条线路：${p.lines}。路由在多条线路之间负载均衡。`,
  },
  'home-only': {
    en: (p) =>
      `Only the home network (${p.carrier}) answered before the path left China: no long-haul hop shows the line.`,
    zh: (p) => `出境前只有本地网络（${p.carrier}）回应：没有骨干网的跳能说明线路。`,
  },
  contradicts: {
    en: (p) =>
      `The hops contradict each other: ${p.first} and then ${p.other} (hop ${p.ttl}) both carry the path ` +
      'as long-haul lines.',
    zh: (p) => `各跳互相矛盾：${p.first} 之后又出现 ${p.other}（第 ${p.ttl} 跳），两者都是长途线路。`,
  },
  'unknown-line': {
    en: (p) => `The first carrier on the path (${p.carrier}) is not one the rules know.`,
    zh: (p) => `路径上的第一个运营商（${p.carrier}）不在规则之内。`,
  },
  'read-backwards': {
    en: () => 'The trace runs from China outwards (a forward trace): it is read from the foreign end.',
    zh: () => '这是从国内出发的去程追踪，按从国外一端往回的方向判断。',
  },
  'ctgnet-with-cn2': {
    en: () => 'CTGNet (AS23764) hops carry part of the path beside CN2; with no 163 hop it stays CN2 GIA.',
    zh: () => '部分路段走 CTGNet（AS23764），与 CN2 同行；没有 163 的跳，仍为 CN2 GIA。',
  },
  'ctgnet-then-163': {
    en: () => 'CTGNet hands over to the 163 backbone (202.97) inside China.',
    zh: () => 'CTGNet 在国内交给 163 骨干网（202.97）。',
  },
  'via-cug': {
    en: (p) => `The path enters through China Unicom Global (AS10099) and continues on ${p.next}.`,
    zh: (p) => `路径经联通国际（AS10099）进入，之后走 ${p.next}。`,
  },
  'ct-v6-shared': {
    en: () =>
      'Only the China Telecom IPv6 backbone range answered; CN2 and 163 routers share it, and no AS4809 hop ' +
      'showed: read as 163.',
    zh: () => '只有电信 IPv6 骨干网段回应，CN2 和 163 共用该网段，且没有 AS4809 的跳：按 163 判断。',
  },
  'cn2-gt': {
    en: (p) => `${p.cn2} CN2 (59.43) hop(s) and ${p.c163} 163 (202.97) hop(s): CN2 GT.`,
    zh: (p) => `${p.cn2} 跳 CN2（59.43）和 ${p.c163} 跳 163（202.97）：CN2 GT。`,
  },
  'target-silent': {
    en: () => 'The target did not answer: the verdict comes from the hops that did.',
    zh: () => '目标无回应：结论来自有回应的跳。',
  },
  'multi-address': {
    en: (p) =>
      `${p.count} hop(s) answered from more than one address (load balancing); ` +
      'the most frequent (trippy: the first seen) was used.',
    zh: (p) => `${p.count} 跳由多个地址回应（负载均衡）；取出现最多的一个（trippy 取第一个）。`,
  },
  'names-only': {
    en: (p) =>
      `${p.count} hop(s) are shown by name only and could not be classified: ` +
      'trace with -n (or -b) so addresses are kept.',
    zh: (p) => `${p.count} 跳只有主机名、没有地址，无法归类：请用 -n（或 -b）重新追踪以保留地址。`,
  },
  'as-lookup-late': {
    en: (p) => `AS lookup: ${p.late} of ${p.asked} hop(s) did not answer in time and stay unnamed.`,
    zh: (p) => `AS 查询：${p.asked} 跳中有 ${p.late} 跳未及时回应，保持未识别。`,
  },
} satisfies Record<string, Texts<NoteParams>>;

export type NoteCode = keyof typeof TEMPLATES;

export interface RouteNote {
  code: NoteCode;
  params: NoteParams;
}

export function noteText(note: RouteNote, lang: Language = 'en'): string {
  return TEMPLATES[note.code][lang](note.params);
}

/** Add a note to a classification, in both forms. */
export function addNote(c: { notes: string[]; noteCodes: RouteNote[] }, code: NoteCode, params: NoteParams = {}): void {
  const note = { code, params };
  c.notes.push(noteText(note));
  c.noteCodes.push(note);
}
