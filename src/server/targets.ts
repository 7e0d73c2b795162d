// Which targets the looking glass may trace. Strict parsing first (only
// canonical IPv4 dotted quads, plain IPv6 text, or real host names, so
// "127.1", "2130706433", "0x7f000001", "0177.0.0.1" and zone ids never reach
// a resolver that would turn them into 127.0.0.1), then special-purpose
// ranges (IANA's IPv4 and IPv6 special-purpose address registries), with
// IPv4 hidden inside IPv6 (mapped, 6to4, NAT64, Teredo) unwrapped first.
// Host names are resolved once and every address must pass; the checked
// address is what gets traced.
import { Resolver } from 'node:dns/promises';
import { networkInterfaces } from 'node:os';
import ipaddr from 'ipaddr.js';
import { type AddressSpace, type Refusal, refusalText } from './refusals.js';

/** A target refused: the refusal (code and figures, for the answer) and its English words as the message. */
export class TargetError extends Error {
  constructor(
    readonly refusal: Refusal,
    readonly statusCode = 400,
  ) {
    super(refusalText(refusal, 'en'));
  }
}

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];
const cidr = (s: string): Cidr => ipaddr.parseCIDR(s);

const isV4 = (a: ipaddr.IPv4 | ipaddr.IPv6): a is ipaddr.IPv4 => a.kind() === 'ipv4';
const isV6 = (a: ipaddr.IPv4 | ipaddr.IPv6): a is ipaddr.IPv6 => a.kind() === 'ipv6';

/** Blocks of one family, each with why it is special. */
type Blocked<A> = readonly (readonly [readonly [A, number], AddressSpace])[];
const blocked4 = (list: [string, AddressSpace][]): Blocked<ipaddr.IPv4> =>
  list.map(([c, why]) => [ipaddr.IPv4.parseCIDR(c), why]);
const blocked6 = (list: [string, AddressSpace][]): Blocked<ipaddr.IPv6> =>
  list.map(([c, why]) => [ipaddr.IPv6.parseCIDR(c), why]);

const V4_BLOCKED = blocked4([
  ['0.0.0.0/8', 'this-network'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'cgnat'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'ietf'],
  ['192.0.2.0/24', 'documentation'],
  ['192.88.99.0/24', 'relay-6to4'],
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'],
]);

/** Inside 2000::/3 (the only IPv6 allowed), these are still special. */
const V6_BLOCKED = blocked6([
  ['2001::/23', 'ietf-v6'],
  ['2001:db8::/32', 'documentation'],
  ['2002::/16', '6to4'],
  ['3fff::/20', 'documentation'],
]);

const IPV4_STRICT = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const FQDN = /^(?=.{1,253}\.?$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]\.?$/i;

export interface TargetPolicy {
  /** CIDRs the operator allows even though they are special (a lab, a LAN). */
  allow: string[];
  /** Refuse this machine's own addresses too (default true). */
  refuseOwnAddresses?: boolean;
}

function inAny(addr: ipaddr.IPv4 | ipaddr.IPv6, list: string[]): boolean {
  return list.some((c) => {
    const [net, bits] = cidr(c);
    return net.kind() === addr.kind() && addr.match(net, bits);
  });
}

/**
 * Whether `address` (IPv4-mapped IPv6 read as IPv4) is inside one of `cidrs`; a bare address counts as
 * itself, and an entry that is not a block matches nothing. For /metrics and trusted proxies.
 */
export function addressInCidrs(address: string, cidrs: string[]): boolean {
  let a: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    a = ipaddr.process(address);
  } catch {
    return false;
  }
  const blocks = cidrs.flatMap((c) => {
    try {
      return [cidr(c.includes('/') ? c : `${c}/${c.includes(':') ? 128 : 32}`)];
    } catch {
      return [];
    }
  });
  return blocks.some(([net, bits]) => net.kind() === a.kind() && a.match(net, bits));
}

function within(a: ipaddr.IPv6, block: string): boolean {
  const [net, bits] = ipaddr.IPv6.parseCIDR(block);
  return a.match(net, bits);
}

/** The IPv4 address an IPv6 one carries, if it is one of the embedding forms. */
function embeddedV4(a: ipaddr.IPv6): { v4: ipaddr.IPv4; form: string } | undefined {
  const b = a.toByteArray();
  const v4 = (o: number): ipaddr.IPv4 => new ipaddr.IPv4(b.slice(o, o + 4));
  if (within(a, '::ffff:0:0/96')) return { v4: v4(12), form: 'IPv4-mapped' };
  if (within(a, '::/96')) return { v4: v4(12), form: 'IPv4-compatible' };
  if (within(a, '64:ff9b::/96')) return { v4: v4(12), form: 'NAT64' };
  if (within(a, '64:ff9b:1::/48')) return { v4: v4(12), form: 'local NAT64' };
  if (within(a, '2002::/16')) return { v4: v4(2), form: '6to4' };
  if (within(a, '2001::/32')) return { v4: new ipaddr.IPv4(b.slice(12, 16).map((x) => x ^ 0xff)), form: 'Teredo' };
  return undefined;
}

/**
 * IPv6 with a dotted IPv4 tail as the kernel reads it: ipaddr.js reads "::127.0.0.1" as IPv4-mapped
 * (::ffff:7f00:1), but it is IPv4-compatible (::7f00:1), and that is what a probe would be sent to.
 * The WHATWG URL parser spells it the kernel's way.
 */
function parseAsKernel(address: string): ipaddr.IPv4 | ipaddr.IPv6 {
  if (address.includes(':') && address.includes('.'))
    return ipaddr.parse(new URL(`http://[${address}]/`).hostname.slice(1, -1));
  return ipaddr.parse(address);
}

/** Why `address` may not be traced, or undefined when it may. */
export function refusal(address: string, policy: TargetPolicy): Refusal | undefined {
  const a = parseAsKernel(address);
  const own = policy.refuseOwnAddresses !== false && ownAddresses().has(a.toNormalizedString());
  // An allowed range opens special space (a lab, a LAN), never this server's own addresses.
  if (inAny(a, policy.allow)) return own ? { code: 'target-own-address', params: { address } } : undefined;
  if (isV4(a)) {
    const hit = V4_BLOCKED.find(([[net, bits]]) => a.match(net, bits));
    if (hit) return { code: 'target-special', params: { address, space: hit[1] } };
    if (address === '255.255.255.255') return { code: 'target-broadcast', params: { address } };
  } else {
    // :: and ::1 sit inside ::/96 but are IPv6's own unspecified and loopback addresses.
    if (a.toNormalizedString() === '0:0:0:0:0:0:0:1') return { code: 'target-ipv6-loopback', params: { address } };
    if (a.toNormalizedString() === '0:0:0:0:0:0:0:0') return { code: 'target-unspecified', params: { address } };
    const inner = embeddedV4(a);
    if (inner) {
      // Its IPv4 address is checked as if asked for directly, this server's own addresses included.
      const params = { address, form: inner.form, v4: inner.v4.toString() };
      const why = refusal(inner.v4.toString(), policy);
      return why ? { code: 'target-embedded-refused', params, because: why } : { code: 'target-embedded', params };
    }
    if (!within(a, '2000::/3')) return { code: 'target-not-global', params: { address, range: a.range() } };
    const hit = V6_BLOCKED.find(([[net, bits]]) => a.match(net, bits));
    if (hit) return { code: 'target-special', params: { address, space: hit[1] } };
  }
  if (own) return { code: 'target-own-address', params: { address } };
  return undefined;
}

function ownAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces()))
    for (const i of list ?? []) out.add(ipaddr.parse(i.address.split('%')[0] ?? i.address).toNormalizedString());
  return out;
}

export type ParsedTarget = { kind: 'address'; address: string; family: 4 | 6 } | { kind: 'name'; name: string };

/** Strict syntax only: an address literal or a host name. */
export function parseTarget(input: string): ParsedTarget {
  if (typeof input !== 'string' || !input.length) throw new TargetError({ code: 'target-empty' });
  if (input.length > 253) throw new TargetError({ code: 'target-too-long' });
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\s\0-\x1f\x7f]/.test(input)) throw new TargetError({ code: 'target-characters' });
  if (input.startsWith('-')) throw new TargetError({ code: 'target-dash' });
  if (IPV4_STRICT.test(input)) return { kind: 'address', address: input, family: 4 };
  if (input.includes(':')) {
    if (/[%[\]/]/.test(input)) throw new TargetError({ code: 'target-ipv6-form' });
    if (!ipaddr.IPv6.isValid(input)) throw new TargetError({ code: 'target-ipv6-invalid', params: { input } });
    return { kind: 'address', address: ipaddr.IPv6.parse(input).toString(), family: 6 };
  }
  if (/^[\d.]+$/.test(input) || /^0x/i.test(input))
    throw new TargetError({ code: 'target-ipv4-form', params: { input } });
  if (!FQDN.test(input)) throw new TargetError({ code: 'target-hostname', params: { input } });
  return { kind: 'name', name: input.replace(/\.$/, '').toLowerCase() };
}

export interface CheckedTarget {
  input: string;
  address: string;
  family: 4 | 6;
}

/** Parse, resolve once (names), and check every address. Throws TargetError with the reason. */
export async function checkTarget(input: string, policy: TargetPolicy, resolver?: Resolver): Promise<CheckedTarget> {
  const parsed = parseTarget(input);
  type Resolved = { address: string; family: 4 | 6 };
  /** At least one address: the first is the one traced. */
  let addresses: [Resolved, ...Resolved[]];
  if (parsed.kind === 'address') addresses = [parsed];
  else {
    const r = resolver ?? new Resolver({ timeout: 2000, tries: 1 });
    const none = (): string[] => [];
    const [v4, v6] = await Promise.all([r.resolve4(parsed.name).catch(none), r.resolve6(parsed.name).catch(none)]);
    const [first, ...rest] = [
      ...v4.map((address): Resolved => ({ address, family: 4 })),
      ...v6.map((address): Resolved => ({ address, family: 6 })),
    ];
    if (first === undefined) throw new TargetError({ code: 'target-no-address', params: { name: parsed.name } });
    addresses = [first, ...rest];
  }
  // A name with any forbidden address is refused as a whole: it is pointing somewhere it should not.
  for (const a of addresses) {
    const why = refusal(a.address, policy);
    if (why)
      throw new TargetError(
        parsed.kind === 'name'
          ? { code: 'target-name-refused', params: { name: parsed.name, address: a.address }, because: why }
          : why,
        403,
      );
  }
  return { input, ...addresses[0] };
}

/** Rate-limit key: IPv4 address, or the /64 of an IPv6 one (a host gets a whole /64). */
/**
 * The network a client's address belongs to, for the wider budgets: an IPv6 /48 (what one site is
 * usually given, 65,536 /64s), or the IPv4 address itself.
 */
export function networkKey(address: string): string {
  let a = ipaddr.parse(address);
  if (isV6(a) && a.isIPv4MappedAddress()) a = a.toIPv4Address();
  if (isV4(a)) return a.toString();
  return `${a.parts
    .slice(0, 3)
    .map((x) => x.toString(16))
    .join(':')}::/48`;
}

export function clientKey(address: string): string {
  let a = ipaddr.parse(address);
  if (isV6(a) && a.isIPv4MappedAddress()) a = a.toIPv4Address();
  if (isV4(a)) return a.toString();
  const p = a.parts.slice(0, 4);
  return `${p.map((x) => x.toString(16)).join(':')}::/64`;
}
