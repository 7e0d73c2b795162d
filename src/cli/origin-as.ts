// The AS-lookup options classify and backtrace share.
import type { Command } from 'commander';
import { VpslineError } from '../errors.js';
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

/** The AS source the flags ask for; the lookup modules load only when one is asked for. */
export async function originAsSource(f: OriginAsFlags): Promise<OriginAsSource | undefined> {
  if (f.aslookup && f.asnDb)
    throw new VpslineError('EVPSLINE_BAD_OPTION', 'choose one of -z (DNS) and --asn-db (file).', 2);
  if (f.asnDb) {
    const { AsnDatabase } = await import('../lookup/asn-file.js');
    return { kind: 'file', database: AsnDatabase.load(f.asnDb) };
  }
  if (f.aslookup) {
    const { AsnLookup } = await import('../lookup/asn.js');
    return { kind: 'dns', lookup: new AsnLookup() };
  }
  return undefined;
}
