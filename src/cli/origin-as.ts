// The AS-lookup options classify and backtrace share.
import type { Command } from 'commander';
import { VpslineError } from '../errors.js';
import { AsnLookup } from '../lookup/asn.js';
import { AsnDatabase } from '../lookup/asn-file.js';
import type { OriginAsSource } from '../route/origin-as.js';

export interface OriginAsFlags {
  aslookup?: boolean;
  asnDb?: string;
}

export function originAsOptions(cmd: Command): Command {
  return cmd
    .option(
      '-z, --aslookup',
      'ask Team Cymru (DNS) for the AS of hops the carrier table does not name; never waits more than 3 s',
    )
    .option('--asn-db <file>', 'the same from a local file: ip2asn TSV (iptoasn.com) or "prefix asn" lines');
}

export function originAsSource(f: OriginAsFlags): OriginAsSource | undefined {
  if (f.aslookup && f.asnDb)
    throw new VpslineError('EVPSLINE_BAD_OPTION', 'choose one of -z (DNS) and --asn-db (file).', 2);
  if (f.asnDb) return { kind: 'file', database: AsnDatabase.load(f.asnDb) };
  if (f.aslookup) return { kind: 'dns', lookup: new AsnLookup() };
  return undefined;
}
