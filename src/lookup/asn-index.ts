// The offline origin-AS index: every announced range of a routing dataset
// (ip-location-db's RouteViews + RIR + DB-IP merge) in a compact binary file
// that ships with vpsline, so `mtr -z`, classify, backtrace and the looking
// glass name each hop's AS without asking anyone. Built by
// `npm run data:asn` (scripts/data-asn.ts); docs/routing-data.md says how.
//
// Layout (little-endian u32 words after a JSON header, gzip-compressed):
//   "VPSLASN1" | u32 metaBytes | meta JSON, padded to 4 |
//   u32 n4 | start4[n4] end4[n4] asn4[n4] |
//   u32 n6 | start6[4*n6] end6[4*n6] asn6[n6]   (IPv6 as 4 words, most significant first) |
//   u32 nNames | nameAsn[nNames] nameEnd[nNames] | UTF-8 names
// Ranges are sorted and do not overlap (the dataset is flattened), so a
// lookup is one binary search over typed arrays: no BigInt, no allocation.
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { gunzipSync, gzipSync } from 'node:zlib';
import ipaddr from 'ipaddr.js';
import { errnoCode, VpslineError } from '../errors.js';
import { parseV4, parseV6 } from './address-parse.js';

const MAGIC = 'VPSLASN1';

/** One row of the dataset: an inclusive range, its origin AS and the AS's name. */
export interface AsnRow {
  first: string;
  last: string;
  asn: number;
  name: string;
}

export interface AsnIndexMeta {
  /** The dataset and its version, e.g. "@ip-location-db/asn 2.3.2026061719". */
  dataset: string;
  license?: string;
  /** Rows of the dataset cut short where a later row overlapped them. */
  clipped?: number;
}

export interface OriginAs {
  asn: number;
  /** The AS's name in the dataset, or '' when it has none. */
  name: string;
}

/** An address as four 32-bit words, most significant first (IPv4 in the last word). */
function words(address: ipaddr.IPv4 | ipaddr.IPv6): [number, number, number, number] {
  const b = address.toByteArray();
  const w = (i: number): number =>
    (((b[i] ?? 0) << 24) | ((b[i + 1] ?? 0) << 16) | ((b[i + 2] ?? 0) << 8) | (b[i + 3] ?? 0)) >>> 0;
  return b.length === 4 ? [0, 0, 0, w(0)] : [w(0), w(4), w(8), w(12)];
}

/** A 128-bit number as four words, minus one. */
function minusOne(w: readonly number[]): number[] {
  const out = [...w];
  for (let k = 3; k >= 0; k--) {
    const v = out[k] ?? 0;
    if (v > 0) {
      out[k] = v - 1;
      return out;
    }
    out[k] = 0xffffffff;
  }
  return out;
}

/** Build the compressed index from rows (any order). Overlapping rows are refused: the dataset is flat. */
export function encodeAsnIndex(rows: Iterable<AsnRow>, meta: AsnIndexMeta): Buffer {
  const v4: { s: number; e: number; asn: number }[] = [];
  // v6 words are rewritten in place by the overlap fix below.
  const v6: { s: number[]; e: number[]; asn: number }[] = [];
  const names = new Map<number, string>();
  for (const r of rows) {
    const a = ipaddr.parse(r.first);
    const b = ipaddr.parse(r.last);
    if (a.kind() !== b.kind()) throw new Error(`range ${r.first}-${r.last} mixes IPv4 and IPv6`);
    if (!names.has(r.asn) || (!names.get(r.asn) && r.name)) names.set(r.asn, r.name);
    if (a.kind() === 'ipv4') v4.push({ s: words(a)[3], e: words(b)[3], asn: r.asn });
    else v6.push({ s: words(a), e: words(b), asn: r.asn });
  }
  const cmp6 = (x: number[], y: number[]): number => {
    for (let i = 0; i < 4; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
    return 0;
  };
  v4.sort((x, y) => x.s - y.s);
  v6.sort((x, y) => cmp6(x.s, y.s));
  // The published dataset has the odd overlap (one in 2.3.2026061719): the later, narrower row wins and
  // the earlier one is cut short. A range that runs backwards is an error.
  let clipped = 0;
  for (let i = 1; i < v4.length; i++) {
    const [p, c] = [v4[i - 1], v4[i]];
    if (!p || !c) continue;
    if (c.e < c.s) throw new Error(`IPv4 range ${i} runs backwards`);
    if (c.s <= p.e) {
      p.e = c.s - 1;
      clipped++;
    }
  }
  for (let i = 1; i < v6.length; i++) {
    const [p, c] = [v6[i - 1], v6[i]];
    if (!p || !c) continue;
    if (cmp6(c.e, c.s) < 0) throw new Error(`IPv6 range ${i} runs backwards`);
    if (cmp6(c.s, p.e) <= 0) {
      p.e = minusOne(c.s);
      clipped++;
    }
  }
  const keep4 = v4.filter((r) => r.e >= r.s);
  const keep6 = v6.filter((r) => cmp6(r.e, r.s) >= 0);
  const nameList = [...names.entries()].sort((x, y) => x[0] - y[0]);
  const nameBytes = nameList.map(([, n]) => Buffer.from(n, 'utf8'));
  const metaJson = Buffer.from(JSON.stringify({ ...meta, clipped }), 'utf8');
  const metaPadded = Buffer.alloc(Math.ceil(metaJson.length / 4) * 4, 0x20);
  metaJson.copy(metaPadded);
  const u32 = new Uint32Array(1 + 3 * keep4.length + 1 + 9 * keep6.length + 1 + 2 * nameList.length);
  let o = 0;
  u32[o++] = keep4.length;
  for (const r of keep4) u32[o++] = r.s;
  for (const r of keep4) u32[o++] = r.e;
  for (const r of keep4) u32[o++] = r.asn;
  u32[o++] = keep6.length;
  for (const r of keep6) for (const w of r.s) u32[o++] = w;
  for (const r of keep6) for (const w of r.e) u32[o++] = w;
  for (const r of keep6) u32[o++] = r.asn;
  u32[o++] = nameList.length;
  let end = 0;
  for (const [asn] of nameList) u32[o++] = asn;
  for (const b of nameBytes) {
    end += b.length;
    u32[o++] = end;
  }
  const body = Buffer.from(u32.buffer, u32.byteOffset, u32.byteLength);
  if (endianness() !== 'LE') body.swap32();
  const head = Buffer.alloc(12);
  head.write(MAGIC, 0, 'latin1');
  head.writeUInt32LE(metaPadded.length, 8);
  return gzipSync(Buffer.concat([head, metaPadded, body, ...nameBytes]), { level: 9 });
}

export class AsnIndex {
  private readonly scratch = new Uint32Array(4);

  private constructor(
    readonly meta: AsnIndexMeta,
    private readonly s4: Uint32Array,
    private readonly e4: Uint32Array,
    private readonly a4: Uint32Array,
    private readonly s6: Uint32Array,
    private readonly e6: Uint32Array,
    private readonly a6: Uint32Array,
    private readonly nameAsn: Uint32Array,
    private readonly nameEnd: Uint32Array,
    private readonly names: Buffer,
    readonly source: string,
  ) {}

  /** Read a compressed index; a file that is not one gets a one-line error. */
  static decode(compressed: Buffer, source: string): AsnIndex {
    const bad = (why: string): VpslineError =>
      new VpslineError('EVPSLINE_BAD_OPTION', `${source} is not a vpsline AS index (${why}).`, 2);
    let raw: Buffer;
    try {
      // Bounded: the shipped index is about 11 MB unpacked.
      raw = gunzipSync(compressed, { maxOutputLength: 256 * 1024 * 1024 });
    } catch {
      throw bad('not gzip, or larger than 256 MB unpacked');
    }
    if (raw.length < 12 || raw.toString('latin1', 0, 8) !== MAGIC) throw bad('no VPSLASN1 header');
    const metaLen = raw.readUInt32LE(8);
    if (metaLen % 4 || 12 + metaLen > raw.length) throw bad('header length');
    let meta: AsnIndexMeta;
    try {
      const parsed: unknown = JSON.parse(raw.toString('utf8', 12, 12 + metaLen));
      const dataset = parsed && typeof parsed === 'object' && 'dataset' in parsed ? String(parsed.dataset) : 'unknown';
      const clipped = parsed && typeof parsed === 'object' && 'clipped' in parsed ? Number(parsed.clipped) : 0;
      meta = { dataset, clipped };
    } catch {
      throw bad('header is not JSON');
    }
    // Typed arrays straight over the unpacked bytes when they are aligned (they are, from zlib), else a copy.
    const start = 12 + metaLen;
    const count = Math.floor((raw.length - start) / 4);
    let all: Uint32Array;
    if ((raw.byteOffset + start) % 4 === 0 && endianness() === 'LE') {
      all = new Uint32Array(raw.buffer, raw.byteOffset + start, count);
    } else {
      all = new Uint32Array(count);
      Buffer.from(all.buffer).set(raw.subarray(start, start + count * 4));
      if (endianness() !== 'LE') Buffer.from(all.buffer).swap32();
    }
    let o = 0;
    const take = (n: number): Uint32Array => {
      if (o + n > all.length) throw bad('truncated');
      const v = all.subarray(o, o + n);
      o += n;
      return v;
    };
    const n4 = take(1)[0] ?? 0;
    const s4 = take(n4);
    const e4 = take(n4);
    const a4 = take(n4);
    const n6 = take(1)[0] ?? 0;
    const s6 = take(4 * n6);
    const e6 = take(4 * n6);
    const a6 = take(n6);
    const nn = take(1)[0] ?? 0;
    const nameAsn = take(nn);
    const nameEnd = take(nn);
    const names = raw.subarray(start + o * 4);
    if ((nameEnd[nn - 1] ?? 0) > names.length) throw bad('truncated names');
    return new AsnIndex(meta, s4, e4, a4, s6, e6, a6, nameAsn, nameEnd, names, source);
  }

  static load(file: string): AsnIndex {
    let buf: Buffer;
    try {
      buf = readFileSync(file);
    } catch (err) {
      throw new VpslineError(
        'EVPSLINE_BAD_OPTION',
        `Cannot read the AS index ${file} (${errnoCode(err) ?? 'error'}).`,
        2,
      );
    }
    return AsnIndex.decode(buf, file);
  }

  get size(): number {
    return this.a4.length + this.a6.length;
  }

  /** The origin AS number of `address`, or null (not announced, or not an address). */
  lookup(address: string): number | null {
    const v4 = parseV4(address);
    if (v4 >= 0) return this.find4(v4);
    if (parseV6(address, this.scratch)) {
      // ::ffff:a.b.c.d written in hex is still an IPv4 address.
      const w = this.scratch;
      if (w[0] === 0 && w[1] === 0 && w[2] === 0xffff) return this.find4(w[3] ?? 0);
      return this.find6(w);
    }
    // Only the rarer forms (embedded IPv4, a zone) need the full parser.
    if (!address.includes('.') && !address.includes('%')) return null;
    let parsed: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      parsed = ipaddr.process(address); // IPv4-mapped IPv6 is looked up as IPv4
    } catch {
      return null;
    }
    const w = words(parsed);
    return parsed.kind() === 'ipv4' ? this.find4(w[3]) : this.find6(w);
  }

  /** Number and name, for pages that show both. */
  origin(address: string): OriginAs | null {
    const asn = this.lookup(address);
    return asn === null ? null : { asn, name: this.nameOf(asn) };
  }

  nameOf(asn: number): string {
    let lo = 0;
    let hi = this.nameAsn.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.nameAsn[mid] ?? 0;
      if (v === asn) {
        const from = mid === 0 ? 0 : (this.nameEnd[mid - 1] ?? 0);
        return this.names.toString('utf8', from, this.nameEnd[mid] ?? from);
      }
      if (v < asn) lo = mid + 1;
      else hi = mid - 1;
    }
    return '';
  }

  private find4(n: number): number | null {
    // The last range starting at or before n.
    let lo = 0;
    let hi = this.s4.length - 1;
    let at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.s4[mid] ?? 0) <= n) {
        at = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return at >= 0 && (this.e4[at] ?? -1) >= n ? (this.a4[at] ?? null) : null;
  }

  private cmp6(arr: Uint32Array, i: number, w: ArrayLike<number>): number {
    for (let k = 0; k < 4; k++) {
      const a = arr[4 * i + k] ?? 0;
      const b = w[k] ?? 0;
      if (a !== b) return a < b ? -1 : 1;
    }
    return 0;
  }

  private find6(w: ArrayLike<number>): number | null {
    let lo = 0;
    let hi = this.a6.length - 1;
    let at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cmp6(this.s6, mid, w) <= 0) {
        at = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return at >= 0 && this.cmp6(this.e6, at, w) >= 0 ? (this.a6[at] ?? null) : null;
  }
}

/** ip-location-db's CSV: `first,last,asn,"name, with commas"` (RFC 4180 quoting), one range a line. */
export function* readIpLocationCsv(text: string, source: string): Generator<AsnRow> {
  let lineNo = 0;
  for (const line of text.split('\n')) {
    lineNo++;
    if (!line.trim()) continue;
    const cols = splitCsvLine(line.replace(/\r$/, ''));
    const [first = '', last = '', asText = '', name = ''] = cols;
    const asn = /^\d{1,10}$/.test(asText) ? Number(asText) : Number.NaN;
    if (!ipaddr.isValid(first) || !ipaddr.isValid(last) || !(asn >= 0 && asn <= 0xffffffff))
      throw new VpslineError(
        'EVPSLINE_BAD_OPTION',
        `${source} line ${lineNo} is not "first,last,asn,name": ${line.slice(0, 60)}`,
        2,
      );
    if (asn !== 0) yield { first, last, asn, name };
  }
}

/** One CSV line into fields, in a single pass (quoted fields may hold commas and doubled quotes). */
function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(field);
      field = '';
    } else field += c;
  }
  out.push(field);
  return out;
}
