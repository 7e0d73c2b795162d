// Forward name resolution for trace targets: a name or literal to the one
// address that is traced. Reverse DNS and AS numbers live beside it.
import { lookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';
import { errnoCode, VpslineError } from '../errors.js';
import { addressFamily, canonicalAddress, type Family } from '../packet/address.js';

export interface ResolvedTarget {
  address: string;
  family: Family;
}

function wrongFamily(target: string, literal: Family, wanted: Family): never {
  throw new VpslineError(
    'EVPSLINE_BAD_OPTION',
    `${target} is an IPv${literal} address, but -${wanted} asks for IPv${wanted}.`,
    2,
  );
}

/**
 * An IPv4-mapped IPv6 literal (::ffff:a.b.c.d) names an IPv4 host, and mtr
 * traces it as one. Sent as IPv6 it would leave through the IPv6 default
 * route instead, towards a gateway that has no such host.
 */
function unmapped(address: string): { address: string; family: Family } {
  const parsed = ipaddr.parse(address);
  if (parsed instanceof ipaddr.IPv4) return { address: canonicalAddress(address), family: 4 };
  if (parsed.isIPv4MappedAddress()) return { address: parsed.toIPv4Address().toString(), family: 4 };
  return { address: canonicalAddress(address), family: 6 };
}

/** Name or literal to one address; DNS errors become one clear line. */
export async function resolveTarget(target: string, family?: Family): Promise<ResolvedTarget> {
  if (addressFamily(target)) {
    const literal = unmapped(target);
    if (family && family !== literal.family) wrongFamily(target, literal.family, family);
    return literal;
  }
  try {
    const r = await lookup(target, family ? { family } : {});
    return unmapped(r.address);
  } catch (err) {
    const code = errnoCode(err) ?? 'EUNKNOWN';
    throw new VpslineError(
      'EVPSLINE_UNKNOWN_HOST',
      `Failed to resolve host: ${target} (${code}${family ? `, IPv${family}` : ''}).`,
      1,
      { cause: err },
    );
  }
}
