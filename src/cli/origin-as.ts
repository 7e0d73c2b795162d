// The AS-lookup options classify and backtrace share: the shipped offline
// index by default, another file, or Team Cymru over DNS when asked.
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
      "ask Team Cymru (DNS) for each hop's AS instead of the offline routing data; never waits more than 3 s",
    )
    .option(
      '--asn-db <file>',
      'AS data to use instead of the shipped index: a vpsline index (npm run data:asn), ' +
        'ip-location-db CSV, ip2asn TSV or "prefix asn" lines',
    );
}

/** The AS source the flags ask for; the lookup modules load only when one is asked for. */
export async function originAsSource(f: OriginAsFlags): Promise<OriginAsSource> {
  if (f.aslookup && f.asnDb)
    throw new VpslineError('EVPSLINE_BAD_OPTION', 'choose one of -z (DNS) and --asn-db (file).', 2);
  if (f.aslookup) {
    const { AsnLookup } = await import('../lookup/asn.js');
    return { kind: 'dns', lookup: new AsnLookup() };
  }
  const { loadAsnData, shippedAsnIndex } = await import('../lookup/asn-data.js');
  return { kind: 'file', database: f.asnDb ? loadAsnData(f.asnDb) : shippedAsnIndex() };
}
