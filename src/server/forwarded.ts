// The host a visitor's browser asked for, with or without a reverse proxy in front.
// Behind nginx or Caddy the Host header the server gets may be the proxy's own
// upstream (127.0.0.1:8080); the proxy passes the browser's in X-Forwarded-Host.
// That header is believed only from a --trust-proxy address (anyone else could
// send it), and only when it reads as a host name or an address: the value ends
// up on the page.
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { addressInCidrs } from './targets.js';

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOST_NAME = new RegExp(`^(?=.{1,253}\\.?$)${LABEL}(?:\\.${LABEL})*\\.?$`);
const PORT = /^\d{1,5}$/;

/**
 * A Host-style value (`name`, `name:port`, `1.2.3.4:port`, `[v6]:port`, or a bare IPv6 address, which some
 * proxies forward) split into the host (brackets gone) and the port; undefined when it is anything else.
 */
function parseHost(value: string): { name: string; port?: string } | undefined {
  if (value.length > 300 || !/^[A-Za-z0-9.:\-[\]]+$/.test(value)) return undefined;
  let name: string;
  let port: string | undefined;
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    if (end < 0) return undefined;
    name = value.slice(1, end);
    const rest = value.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) return undefined;
    port = rest ? rest.slice(1) : undefined;
    if (isIP(name) !== 6) return undefined;
  } else if (value.split(':').length > 2) {
    name = value;
    if (isIP(name) !== 6) return undefined;
  } else {
    [name = '', port] = value.split(':');
    if (isIP(name) !== 4 && !HOST_NAME.test(name)) return undefined;
  }
  if (port !== undefined && !PORT.test(port)) return undefined;
  return port === undefined ? { name } : { name, port };
}

/** The first value of a header that may be repeated or a comma-separated list. */
function firstValue(header: string | string[] | undefined): string | undefined {
  const joined = Array.isArray(header) ? header[0] : header;
  const first = joined?.split(',')[0]?.trim();
  return first || undefined;
}

/**
 * The host the browser addressed, as its Host header has it (port included, for comparing with an Origin):
 * X-Forwarded-Host's first value when the connection comes from a trusted proxy, else Host. Undefined when
 * neither is there or reads as a host.
 */
export function requestedHost(
  headers: IncomingHttpHeaders,
  remoteAddress: string | undefined,
  trustProxy: string[],
): string | undefined {
  if (addressInCidrs(remoteAddress ?? '', trustProxy)) {
    const forwarded = firstValue(headers['x-forwarded-host']);
    if (forwarded && parseHost(forwarded)) return forwarded;
  }
  const host = headers.host;
  return host && parseHost(host) ? host : undefined;
}

/** The host part of a value `requestedHost` returned: no port, no IPv6 brackets. */
export function hostName(host: string): string {
  return parseHost(host)?.name ?? '';
}
