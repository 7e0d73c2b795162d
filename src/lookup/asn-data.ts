// Where origin AS numbers come from when no network is asked: the index that
// ships with vpsline (data/asn-index.bin.gz), or a file the user names.
import { readFileSync } from 'node:fs';
import { errnoCode, VpslineError } from '../errors.js';
import { hasOriginAs } from './asn.js';
import { AsnDatabase } from './asn-file.js';
import { AsnIndex } from './asn-index.js';

/** Anything that answers "which AS originates this address". */
export interface AsnTable {
  lookup(address: string): number | null;
  readonly source: string;
}

const SHIPPED = new URL('../../data/asn-index.bin.gz', import.meta.url);
let shipped: AsnIndex | undefined;

/** The shipped index, read on first use (about 50 ms) and kept. */
export function shippedAsnIndex(): AsnIndex {
  shipped ??= AsnIndex.load(SHIPPED.pathname);
  return shipped;
}

/** A vpsline index (gzip) or a text file: ip-location-db CSV, ip2asn TSV, "prefix asn" lines. */
export function loadAsnData(file: string): AsnTable {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    throw new VpslineError('EVPSLINE_BAD_OPTION', `Cannot read the AS data ${file} (${errnoCode(err) ?? 'error'}).`, 2);
  }
  if (buf[0] === 0x1f && buf[1] === 0x8b) return AsnIndex.decode(buf, file);
  return AsnDatabase.parse(buf.toString('utf8'), file);
}

/**
 * The lookup `vpsline mtr -z` asks while it traces, answering at once from a table:
 * the shape of the DNS lookup (request, asOf, settle), without the network.
 */
export class TableAsLookup {
  constructor(private readonly table: AsnTable) {}

  request(_address: string): void {}

  asOf(address: string): string | null {
    if (!hasOriginAs(address)) return null;
    const asn = this.table.lookup(address);
    return asn === null ? null : String(asn);
  }

  gaveUp(_address: string): boolean {
    return false;
  }

  async settle(): Promise<void> {}
}
