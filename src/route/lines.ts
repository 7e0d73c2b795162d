// How lines and carriers are called, in English and Simplified Chinese.
import type { Language } from '../i18n.js';
import { noteText, type RouteNote } from './notes.js';

const LINES: Record<string, [string, string]> = {
  'cn2-gia': ['CN2 GIA', '电信 CN2 GIA [精品线路]'],
  'cn2-gt': ['CN2 GT', '电信 CN2 GT [优质线路]'],
  'chinanet-163': ['ChinaNet 163', '电信 163 [普通线路]'],
  ctgnet: ['CTGNet', '电信 CTGNet [精品线路]'],
  'cu-4837': ['China Unicom 4837 (169)', '联通 4837 [普通线路]'],
  'cu-9929': ['China Unicom 9929 (CUII)', '联通 9929 [优质线路]'],
  'cu-10099': ['China Unicom Global 10099', '联通 10099 [优质线路]'],
  cmi: ['China Mobile CMI', '移动 CMI [普通线路]'],
  cmin2: ['China Mobile CMIN2', '移动 CMIN2 [精品线路]'],
  cmnet: ['China Mobile CMNET', '移动 CMNET [普通线路]'],
  cernet: ['CERNET', '教育网 CERNET'],
  'ct-access': ['China Telecom provincial network', '电信省网'],
  'cu-access': ['China Unicom provincial network', '联通省网'],
  'cm-access': ['China Mobile provincial network', '移动省网'],
  other: ['not a Chinese carrier line', '非中国运营商线路'],
  inconclusive: ['inconclusive', '无法判断'],
};

const CARRIERS: Record<string, [string, string]> = {
  ct: ['China Telecom', '电信'],
  cu: ['China Unicom', '联通'],
  cm: ['China Mobile', '移动'],
};

/** Short tags for hop lists and live views. */
const TAGS: Record<string, string> = {
  cn2: 'CN2',
  'chinanet-163': '163',
  'ct-backbone-v6': 'CT',
  ctgnet: 'CTG',
  'cu-4837': '4837',
  'cu-9929': '9929',
  'cu-10099': '10099',
  cmi: 'CMI',
  cmin2: 'CMIN2',
  cmnet: 'CMNET',
  cernet: 'CERNET',
  'ct-access': 'CT',
  'cu-access': 'CU',
  'cm-access': 'CM',
};

export function lineName(verdict: string, lang: Language = 'en'): string {
  const n = LINES[verdict];
  return n ? n[lang === 'zh' ? 1 : 0] : verdict;
}

export function carrierName(carrier: string, lang: Language = 'en'): string {
  const n = CARRIERS[carrier];
  return n ? n[lang === 'zh' ? 1 : 0] : carrier;
}

export function carrierTag(id: string): string {
  return TAGS[id] ?? id;
}

/** A verdict's line, landing network and notes in both languages (for pages that switch). */
export function bilingualNames(c: { verdict: string; landing: string | null; noteCodes: RouteNote[] }): {
  line: { en: string; zh: string };
  landing: { en: string; zh: string } | null;
  notes: { en: string[]; zh: string[] };
} {
  return {
    line: { en: lineName(c.verdict, 'en'), zh: lineName(c.verdict, 'zh') },
    landing: c.landing ? { en: lineName(c.landing, 'en'), zh: lineName(c.landing, 'zh') } : null,
    notes: { en: c.noteCodes.map((n) => noteText(n, 'en')), zh: c.noteCodes.map((n) => noteText(n, 'zh')) },
  };
}
