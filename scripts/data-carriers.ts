// `npm run data:carriers`: build data/carriers.json from routing data, the
// pinned @ip-location-db/asn package (RouteViews prefix-to-AS, RIR
// delegations, DB-IP ASN names; CC BY 4.0). Every range a carrier's ASNs
// originate becomes a prefix of that carrier; the few rows that routing data
// cannot give (backbone space not announced in BGP) are written below by
// hand, each with the public record that supports it, and cut down to the
// part no AS announces. docs/routing-data.md explains each choice.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ipaddr from 'ipaddr.js';
import { readIpLocationCsv } from '../src/lookup/asn-index.js';
import { addressNumber, cidrRange } from '../src/lookup/range-table.js';

interface Spec {
  id: string;
  name: string;
  family: 'ct' | 'cu' | 'cm' | 'edu';
  /** line: a long-haul network whose name is the verdict; access: a provincial or metro network that delivers. */
  role: 'line' | 'access';
  /** The AS the line is known by. */
  asn: number | null;
  /** Which ASNs: listed, or chosen by the AS name in the dataset (DB-IP's names). */
  asns?: number[];
  /** Ranges of these ASNs (inside `within`) without the ASNs themselves naming the network. */
  rangesOf?: number[];
  byName?: RegExp;
  notAsns?: number[];
  notNames?: RegExp;
  /** Only the ranges inside these prefixes (a backbone block inside a larger AS), or outside them. */
  within?: string[];
  outside?: string[];
  /** Space not announced in BGP, by hand: kept only where no AS of the dataset announces it. */
  manual?: { prefix: string; citation: string }[];
  ambiguous?: boolean;
}

const LINE_ASNS = [4809, 4134, 23764, 4837, 9929, 10099, 58453, 58807, 9808];
const CHINANET_BACKBONE = ['202.97.0.0/16'];
const CT_V6_BACKBONE = ['240e::/32', '240e:2::/32'];

const SPECS: Spec[] = [
  { id: 'cn2', name: 'China Telecom CN2 (AS4809)', family: 'ct', role: 'line', asn: 4809, asns: [4809] },
  {
    id: 'chinanet-163',
    name: 'China Telecom ChinaNet (163) backbone',
    family: 'ct',
    role: 'line',
    asn: 4134,
    rangesOf: [4134],
    within: CHINANET_BACKBONE,
  },
  {
    id: 'ct-backbone-v6',
    name: 'China Telecom IPv6 backbone (AS4134 space that CN2 and 163 routers share)',
    family: 'ct',
    role: 'line',
    asn: null,
    rangesOf: [4134],
    within: CT_V6_BACKBONE,
    ambiguous: true,
  },
  {
    id: 'ctgnet',
    name: 'China Telecom Global CTGNet (AS23764)',
    family: 'ct',
    role: 'line',
    asn: 23764,
    asns: [23764],
  },
  {
    id: 'cu-4837',
    name: 'China Unicom China169 backbone (AS4837)',
    family: 'cu',
    role: 'line',
    asn: 4837,
    asns: [4837],
    manual: [
      {
        prefix: '219.158.0.0/16',
        citation:
          'APNIC whois 219.158.0.0 - 219.158.255.255 (netname UNICOM-CN); 219.158.x are the China169 backbone ' +
          'routers in published traces (test/fixtures/traces)',
      },
    ],
  },
  {
    id: 'cu-9929',
    name: 'China Unicom Industrial Internet CUII (AS9929)',
    family: 'cu',
    role: 'line',
    asn: 9929,
    asns: [9929],
  },
  {
    id: 'cu-10099',
    name: 'China Unicom Global CUG (AS10099)',
    family: 'cu',
    role: 'line',
    asn: 10099,
    asns: [10099],
  },
  {
    id: 'cmi',
    name: 'China Mobile International CMI (AS58453)',
    family: 'cm',
    role: 'line',
    asn: 58453,
    asns: [58453],
  },
  {
    id: 'cmin2',
    name: 'China Mobile International CMIN2 (AS58807)',
    family: 'cm',
    role: 'line',
    asn: 58807,
    asns: [58807],
  },
  {
    id: 'cmnet',
    name: 'China Mobile CMNET (AS9808)',
    family: 'cm',
    role: 'line',
    asn: 9808,
    asns: [9808],
    manual: [
      {
        prefix: '221.183.0.0/16',
        citation:
          'APNIC whois 221.176.0.0 - 221.183.255.255 (China Mobile, netname CMNET); 221.183.x are CMNET ' +
          'backbone routers in published traces (test/fixtures/traces)',
      },
    ],
  },
  {
    id: 'ct-access',
    name: 'China Telecom provincial and metro networks',
    family: 'ct',
    role: 'access',
    asn: null,
    byName: /^(chinanet\b|china ?telecom( \(group\))?$|idc, china telecommunications corporation$|chinatelecom )/i,
    notAsns: LINE_ASNS.filter((a) => a !== 4134),
    outside: [...CHINANET_BACKBONE, ...CT_V6_BACKBONE],
  },
  {
    id: 'cu-access',
    name: 'China Unicom provincial and metro networks',
    family: 'cu',
    role: 'access',
    asn: null,
    byName: /^(china unicom\b|unicom \S+ province)/i,
    notNames: /\((europe|americas|hong kong|singapore)\)/i,
    notAsns: LINE_ASNS,
  },
  {
    id: 'cm-access',
    name: 'China Mobile provincial networks and China TieTong',
    family: 'cm',
    role: 'access',
    asn: null,
    byName: /^(china mobile( communications (corporation|group.*))?$|china tietong)/i,
    notAsns: LINE_ASNS,
  },
  {
    id: 'cernet',
    name: 'CERNET (China Education and Research Network)',
    family: 'edu',
    role: 'access',
    asn: 4538,
    // CERNET2, its IPv6 backbone (AS23910) with the Beijing exchange it runs (AS23911, CNGI-6IX) and its
    // university IXs ("CERNET2 IX at ..."), is named apart from CERNET in the dataset.
    byName: /china education and research network|\bcernet2\b|^china next generation internet\b/i,
  },
];

/** The fewest CIDR blocks covering first..last (inclusive). */
function toCidrs(first: bigint, last: bigint, v6: boolean): string[] {
  const width = v6 ? 128 : 32;
  const out: string[] = [];
  let at = first;
  while (at <= last) {
    let size = 0;
    while (size < width && (at & ((1n << BigInt(size + 1)) - 1n)) === 0n && at + (1n << BigInt(size + 1)) - 1n <= last)
      size++;
    const bytes: number[] = [];
    for (let i = width / 8 - 1; i >= 0; i--) bytes.push(Number((at >> BigInt(8 * i)) & 0xffn));
    out.push(`${ipaddr.fromByteArray(bytes).toString()}/${width - size}`);
    at += 1n << BigInt(size);
  }
  return out;
}

type Span = { v6: boolean; first: bigint; last: bigint };

/** The larger and smaller of two bigints (Math.max and Math.min take numbers only). */
const bigMax = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const bigMin = (a: bigint, b: bigint): bigint => (a < b ? a : b);

function clip(span: Span, windows: Span[]): Span[] {
  return windows
    .filter((w) => w.v6 === span.v6 && w.first <= span.last && w.last >= span.first)
    .map((w) => ({
      v6: span.v6,
      first: bigMax(span.first, w.first),
      last: bigMin(span.last, w.last),
    }));
}

function subtract(span: Span, holes: Span[]): Span[] {
  let parts = [span];
  for (const h of holes.filter((x) => x.v6 === span.v6)) {
    parts = parts.flatMap((p) => {
      if (h.last < p.first || h.first > p.last) return [p];
      const keep: Span[] = [];
      if (h.first > p.first) keep.push({ v6: p.v6, first: p.first, last: h.first - 1n });
      if (h.last < p.last) keep.push({ v6: p.v6, first: h.last + 1n, last: p.last });
      return keep;
    });
  }
  return parts;
}

const require = createRequire(import.meta.url);
const pkgDir = dirname(require.resolve('@ip-location-db/asn/package.json'));
const pkg: { name: string; version: string } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const dataset = `${pkg.name} ${pkg.version}`;
const spans: { asn: number; name: string; span: Span }[] = [];
for (const f of ['asn-ipv4.csv', 'asn-ipv6.csv'])
  for (const r of readIpLocationCsv(readFileSync(join(pkgDir, f), 'utf8'), f)) {
    const a = addressNumber(r.first);
    spans.push({ asn: r.asn, name: r.name, span: { v6: a.v6, first: a.n, last: addressNumber(r.last).n } });
  }
const announced = spans.map((s) => s.span);

const carriers = SPECS.map((spec) => {
  const asns = new Set<number>(spec.asns ?? []);
  if (spec.byName) for (const s of spans) if (spec.byName.test(s.name) && !spec.notNames?.test(s.name)) asns.add(s.asn);
  for (const a of spec.notAsns ?? []) asns.delete(a);
  const within = spec.within?.map(cidrRange);
  const outside = spec.outside?.map(cidrRange) ?? [];
  const from = new Set([...asns, ...(spec.rangesOf ?? [])]);
  let mine: Span[] = spans.filter((s) => from.has(s.asn)).map((s) => s.span);
  if (within) mine = mine.flatMap((s) => clip(s, within));
  mine = mine.flatMap((s) => subtract(s, outside));
  const prefixes = mine.flatMap((s) => toCidrs(s.first, s.last, s.v6));
  const manual = (spec.manual ?? []).map((m) => {
    const unannounced = subtract(cidrRange(m.prefix), announced);
    return { ...m, unannounced: unannounced.flatMap((s) => toCidrs(s.first, s.last, s.v6)) };
  });
  return {
    id: spec.id,
    asn: spec.asn,
    asns: [...asns].sort((a, b) => a - b),
    name: spec.name,
    family: spec.family,
    role: spec.role,
    ...(spec.ambiguous ? { ambiguous: true } : {}),
    source:
      `${dataset}: ranges originated by ` +
      (spec.byName ? `the ASNs whose name matches ${spec.byName}` : `AS${[...from].join(', AS')}`) +
      (spec.within ? ` inside ${spec.within.join(', ')}` : '') +
      (spec.outside ? ` outside ${spec.outside.join(', ')}` : ''),
    prefixes,
    ...(manual.length
      ? {
          manual: manual.map((m) => ({
            prefix: m.prefix,
            citation: m.citation,
            notAnnounced: m.unannounced,
          })),
        }
      : {}),
  };
});

const out = join(new URL('..', import.meta.url).pathname, 'data', 'carriers.json');
const doc = {
  version: 2,
  dataset,
  license: 'CC BY 4.0: RouteViews, NRO (RIR delegations), DB-IP (https://db-ip.com)',
  built: new Date().toISOString().slice(0, 10),
  note:
    'Built by npm run data:carriers from routing data; longest prefix wins. "manual" rows are space not ' +
    'announced in BGP, written by hand with their citation; only their unannounced part is used. ' +
    'Override or extend with --carriers-file FILE.',
  carriers,
};
writeFileSync(`${out}.tmp`, `${JSON.stringify(doc, null, 1)}\n`);
renameSync(`${out}.tmp`, out);
for (const c of carriers)
  console.log(
    `${c.id.padEnd(16)} ${String(c.asns.length).padStart(4)} ASNs ${String(c.prefixes.length).padStart(6)} prefixes`,
  );
