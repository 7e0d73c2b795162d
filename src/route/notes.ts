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
    en: (p) => `${p.carrier}: its prefixes come from peer tools' lists, not routing data.`,
    zh: (p) => `${p.carrier}：前缀来自同类工具的列表，不是路由数据。`,
  },
  'nothing-answered': {
    en: (p) => `No Chinese carrier hop answered: ${hiders(p, 'en')}.`,
    zh: (p) => `没有中国运营商的跳回应：${hiders(p, 'zh')}。`,
  },
  'no-backbone': {
    en: () => 'No hop belongs to a Chinese carrier backbone in the table.',
    zh: () => '没有一跳属于表中的中国运营商骨干网。',
  },
  'too-few': {
    en: (p) =>
      `Only one ${p.what} hop answered (hop ${p.ttl})` +
      `${hiders(p, 'en') ? `; ${hiders(p, 'en')}` : ''}: not enough to name the line.`,
    zh: (p) =>
      `只有一跳 ${p.what} 回应（第 ${p.ttl} 跳）${hiders(p, 'zh') ? `；${hiders(p, 'zh')}` : ''}：不足以判断线路。`,
  },
  'unknown-line': {
    en: (p) =>
      `No ${p.what} hop answered, and the first carrier segment (${p.carrier}) is not a line the classifier knows.`,
    zh: (p) => `没有 ${p.what} 的跳回应，第一个运营商段（${p.carrier}）不是分类器认识的线路。`,
  },
  'ctgnet-to-cn2': {
    en: () => 'CTGNet hands over to CN2 (59.43) inside China.',
    zh: () => 'CTGNet 在国内交给 CN2（59.43）。',
  },
  'ct-v6-shared': {
    en: () => 'Only the China Telecom IPv6 backbone range answered; it is shared by CN2 (AS4809) and 163 (AS4134).',
    zh: () => '只有电信 IPv6 骨干网段回应，CN2（AS4809）和 163（AS4134）共用该网段。',
  },
  'cn2-gt': {
    en: () => 'CN2 hops carry the international part and 163 (202.97) hops the domestic part: CN2 GT.',
    zh: () => '国际段走 CN2，国内段走 163（202.97）：CN2 GT。',
  },
  'nearest-access': {
    en: () =>
      'One 202.97 hop right before the target: CN2 GIA entering 163 near the destination (nearest access), not GT.',
    zh: () => '目标前只有一跳 202.97：CN2 GIA 在目的地附近就近接入 163，不是 GT。',
  },
  'first-not-chinese': {
    en: (p) => `The first carrier segment (${p.carrier}) is not a Chinese backbone in the table.`,
    zh: (p) => `第一个运营商段（${p.carrier}）不是表中的中国骨干网。`,
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
