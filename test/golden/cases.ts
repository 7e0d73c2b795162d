// The golden cases: which mtr command made each file under test/golden/mtr/,
// on which lab path (lab/scenarios/golden.yaml) and with which DNS answers.
// Shared by the recorder (record.ts), the lab test (test/lab/golden.test.ts)
// and the renderer test (test/report/golden.test.ts).
import ipaddr from 'ipaddr.js';
import { cymruName } from '../../src/lookup/asn.js';
import type { DnsConfig } from '../../lab/dns-server.js';

export const GOLDEN_SCENARIO = 'golden';
export const GOLDEN_DIR = new URL('./mtr/', import.meta.url).pathname;
/** The lab DNS server, on the client namespace's loopback. */
export const DNS_ADDRESS = '198.18.0.53';

export const V4 = '198.18.230.1';
export const V6 = '2001:2:0:230::1';
/** The second path: its ECMP hop is an MPLS tunnel entry. */
export const V4_MPLS_ECMP = '198.18.231.1';

function ptr4(address: string): string {
  return `${address.split('.').reverse().join('.')}.in-addr.arpa`;
}

function ptr6(address: string): string {
  // cymruName already spells the nibbles; only the zone differs.
  return cymruName(address).replace(/\.origin6\.asn\.cymru\.com$/, '.ip6.arpa');
}

function cymru(asn: number, prefix: string): string {
  return `${asn} | ${prefix} | ZZ | lab | 2000-01-01`;
}

/**
 * mtr 0.95 asks origin6 about the first 64 bits only (16 nibbles), vpsline
 * about the whole address; Team Cymru answers both, so the lab does too.
 */
function cymru6(address: string, asn: number, prefix: string): Record<string, string> {
  const full = cymruName(address);
  const slash64 = full.split('.').slice(16).join('.');
  return { [full]: cymru(asn, prefix), [slash64]: cymru(asn, prefix) };
}

/** Names and AS numbers: some known, some not (NXDOMAIN), one name longer than a narrow report's column. */
export const GOLDEN_DNS: Omit<DnsConfig, 'listen'> = {
  ptr: {
    [ptr4('198.18.130.1')]: 'gw.lab.example',
    // Both ECMP routers have one name, so that with names on, which of them
    // answered last (a coin toss per run, see test/lab/golden.test.ts) does
    // not change the text.
    [ptr4('198.18.131.1')]: 'ecmp.lab.example',
    [ptr4('198.18.131.2')]: 'ecmp.lab.example',
    [ptr4('198.18.132.1')]: 'ae-12.mpls-core-1.tunnel.lab.example',
    [ptr4('198.18.230.1')]: 'target.lab.example',
    [ptr6('2001:2:0:130::1')]: 'gw.lab.example',
    [ptr6('2001:2:0:131::1')]: 'ecmp.lab.example',
    [ptr6('2001:2:0:131::2')]: 'ecmp.lab.example',
    [ptr6('2001:2:0:132::1')]: 'ae-12.mpls-core-1.tunnel.lab.example',
    [ptr6('2001:2:0:230::1')]: 'target.lab.example',
  },
  txt: {
    [cymruName('198.18.130.1')]: cymru(64500, '198.18.130.0/24'),
    [cymruName('198.18.131.1')]: cymru(4809, '198.18.131.0/24'),
    [cymruName('198.18.131.2')]: cymru(4809, '198.18.131.0/24'),
    [cymruName('198.18.132.1')]: cymru(4134, '198.18.132.0/24'),
    [cymruName('198.18.230.1')]: cymru(4294967294, '198.18.230.0/24'),
    ...cymru6('2001:2:0:130::1', 64500, '2001:2:0:130::/64'),
    ...cymru6('2001:2:0:132::1', 4134, '2001:2:0:132::/64'),
    ...cymru6('2001:2:0:230::1', 4294967294, '2001:2:0:230::/64'),
  },
};

export interface GoldenCase {
  /** File name under test/golden/mtr/ (without .txt). */
  name: string;
  /** Options as given to mtr and to vpsline mtr (the target is added last). */
  args: string[];
  target: string;
  /** What the case shows. */
  about: string;
  /** A known difference of vpsline's command line (not its renderers): the lab test runs it as a todo. */
  labTodo?: string;
}

const RUN = ['-c', '10', '-i', '0.2'];

export const GOLDEN_CASES: GoldenCase[] = [
  { name: 'r-v4', args: ['-r', ...RUN], target: V4, about: 'narrow report, names cut to 25' },
  { name: 'rn-v4', args: ['-rn', ...RUN], target: V4, about: 'narrow report, addresses only' },
  { name: 'rw-v4', args: ['-rw', ...RUN], target: V4, about: 'wide report' },
  { name: 'rwn-v4', args: ['-rwn', ...RUN], target: V4, about: 'wide report, addresses only' },
  { name: 'rwb-v4', args: ['-rwb', ...RUN], target: V4, about: 'wide report, name (address)' },
  { name: 'rz-v4', args: ['-rz', ...RUN], target: V4, about: 'narrow report with AS numbers' },
  { name: 'rwz-v4', args: ['-rwz', ...RUN], target: V4, about: 'wide report with AS numbers' },
  { name: 're-v4', args: ['-re', ...RUN], target: V4, about: 'narrow report with MPLS labels' },
  { name: 'rwe-v4', args: ['-rwe', ...RUN], target: V4, about: 'wide report with MPLS labels' },
  {
    name: 'rwne-ecmp-v4',
    args: ['-rwne', ...RUN],
    target: V4_MPLS_ECMP,
    about: 'MPLS labels on an ECMP hop (the only place mtr 0.95 prints them)',
  },
  { name: 'csv-v4', args: ['-C', ...RUN], target: V4, about: 'CSV' },
  {
    name: 'csvw-v4',
    args: ['-Cw', ...RUN],
    target: V4,
    about: 'the last display flag wins: a wide report',
  },
  { name: 'csvz-v4', args: ['-Cz', ...RUN], target: V4, about: 'CSV with AS numbers' },
  { name: 'xml-v4', args: ['-x', ...RUN], target: V4, about: 'XML' },
  { name: 'json-v4', args: ['-j', ...RUN], target: V4, about: 'JSON' },
  { name: 'jsonz-v4', args: ['-jz', ...RUN], target: V4, about: 'JSON with AS numbers' },
  { name: 'rw-v6', args: ['-rw', ...RUN], target: V6, about: 'IPv6 wide report' },
  { name: 'rwz-v6', args: ['-rwz', ...RUN], target: V6, about: 'IPv6 wide report with AS numbers (origin6)' },
  { name: 'r-v6', args: ['-r', ...RUN], target: V6, about: 'IPv6 narrow report' },
  { name: 'json-v6', args: ['-j', ...RUN], target: V6, about: 'IPv6 JSON' },
];

/**
 * The same AS answers as a dataset in ip-location-db's CSV format ("first,last,asn,name"), for
 * vpsline's offline -z: what real mtr learnt over DNS, vpsline reads from a file.
 */
export function goldenAsnCsv(): string {
  const rows = new Map<string, string>();
  for (const text of Object.values(GOLDEN_DNS.txt ?? {})) {
    const [asn = '', prefix = ''] = text.split('|').map((f) => f.trim());
    const [first, last] = prefixBounds(prefix);
    rows.set(prefix, `${first},${last},${asn},lab AS${asn}`);
  }
  return `${[...rows.values()].join('\n')}\n`;
}

function prefixBounds(prefix: string): [string, string] {
  const [addr, bits] = ipaddr.parseCIDR(prefix);
  const bytes = addr.toByteArray();
  const last = bytes.map((b, i) => {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    return b | (0xff >> keep);
  });
  return [addr.toString(), ipaddr.fromByteArray(last).toString()];
}
