// mtr's statistics fields (`-o` letters): header, value, and how each output
// format prints it. One table, so report, JSON, CSV and XML agree.
import type { HopSnapshot } from '../trace/hop.js';

export type FieldKind = 'percent' | 'count' | 'ms' | 'spacer';

export interface Field {
  letter: string;
  header: string;
  kind: FieldKind;
  /** Column width in the text report (printf width plus the leading space). */
  width: number;
  value(h: HopSnapshot): number;
}

export const FIELDS: readonly Field[] = [
  { letter: ' ', header: ' ', kind: 'spacer', width: 1, value: () => 0 },
  { letter: 'L', header: 'Loss%', kind: 'percent', width: 6, value: (h) => h.lossPercent },
  { letter: 'D', header: 'Drop', kind: 'count', width: 5, value: (h) => h.lost },
  { letter: 'R', header: 'Rcv', kind: 'count', width: 6, value: (h) => h.received },
  { letter: 'S', header: 'Snt', kind: 'count', width: 6, value: (h) => h.sent },
  { letter: 'N', header: 'Last', kind: 'ms', width: 6, value: (h) => h.stats.last },
  { letter: 'B', header: 'Best', kind: 'ms', width: 6, value: (h) => h.stats.best },
  { letter: 'A', header: 'Avg', kind: 'ms', width: 6, value: (h) => h.stats.mean },
  { letter: 'W', header: 'Wrst', kind: 'ms', width: 6, value: (h) => h.stats.worst },
  { letter: 'V', header: 'StDev', kind: 'ms', width: 6, value: (h) => h.stats.stdev },
  { letter: 'G', header: 'Gmean', kind: 'ms', width: 6, value: (h) => h.stats.gmean },
  { letter: 'J', header: 'Jttr', kind: 'ms', width: 5, value: (h) => h.stats.jitter },
  { letter: 'M', header: 'Javg', kind: 'ms', width: 5, value: (h) => h.stats.jitterMean },
  { letter: 'X', header: 'Jmax', kind: 'ms', width: 5, value: (h) => h.stats.jitterMax },
  // mtr shows its RFC 3550 estimator scaled by 16; keep the column comparable.
  { letter: 'I', header: 'Jint', kind: 'ms', width: 5, value: (h) => h.stats.jitterInterarrival * 16 },
];

export const DEFAULT_FIELDS = 'LS NABWV';

const BY_LETTER = new Map(FIELDS.map((f) => [f.letter, f]));

/** Fields for an `-o` string; `_` and unknown letters are skipped, like mtr. */
export function fieldsFor(letters: string = DEFAULT_FIELDS): Field[] {
  return [...letters].map((c) => BY_LETTER.get(c)).filter((f): f is Field => f !== undefined);
}

/**
 * A field's value as mtr holds it: RTTs in whole microseconds (mtr keeps
 * ints and divides by 1000 to print), loss in thousandths of a percent cut
 * toward zero (net_loss), counts as they are. Every format prints from this,
 * so `%.1f`, `%.2f` and JSON's five digits round what mtr would round.
 */
export function mtrValue(f: Field, h: HopSnapshot): number {
  const v = f.value(h);
  switch (f.kind) {
    case 'percent':
      // The epsilon keeps 30 % (29.999999999999996 in floating point) from becoming 29.999.
      return Math.trunc(v * 1000 + 1e-6) / 1000;
    case 'ms':
      return Math.trunc(v * 1000 + 1e-6) / 1000;
    default:
      return v;
  }
}

/** The printf text mtr's report and XML use: `" %4.1f%%"`, `" %5d"`, `" %5.1f"`, `" %4.1f"`. */
export function printfValue(f: Field, h: HopSnapshot): string {
  const v = mtrValue(f, h);
  switch (f.kind) {
    case 'spacer':
      return ' ';
    case 'percent':
      return ` ${v.toFixed(1).padStart(4)}%`;
    case 'count':
      return ` ${String(v).padStart(f.width - 1)}`;
    case 'ms':
      return ` ${v.toFixed(1).padStart(f.width - 1)}`;
  }
}

export interface NameOptions {
  /** Display name for an address (reverse DNS); null/undefined shows the address. */
  nameOf?: (address: string) => string | null | undefined;
  /** mtr -b: show "name (address)". */
  showBoth?: boolean;
  /** mtr -z: origin AS number of an address ("15169"); null/undefined when unknown. */
  asOf?: (address: string) => string | null | undefined;
  /** --carriers: a carrier tag for an address ("CN2", "163"), shown as " [CN2]". */
  tagOf?: (address: string) => string | undefined;
}

/** How mtr shows an AS: "AS15169", or "AS???" when unknown. */
export function asLabel(address: string | null, opts: NameOptions): string {
  const asn = address ? opts.asOf?.(address) : undefined;
  return `AS${asn ?? '???'}`;
}

/** How mtr names a hop: `???`, the address, its name, or `name (address)` with -b. */
export function hostLabel(address: string | null, opts: NameOptions): string {
  if (!address) return '???';
  const tag = opts.tagOf?.(address);
  const suffix = tag ? ` [${tag}]` : '';
  const name = opts.nameOf?.(address);
  if (!name || name === address) return address + suffix;
  return (opts.showBoth ? `${name} (${address})` : name) + suffix;
}
