// Where a server listens (the looking glass, the watch's /metrics): ADDRESS:PORT, brackets around IPv6.
import ipaddr from 'ipaddr.js';
import { VpslineError } from './errors.js';

export function parseListen(
  listen: string,
  option = '--listen',
  example = '127.0.0.1:8080 or [::]:8080',
): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(listen);
  const host = m?.[1];
  const port = Number(m?.[2]);
  if (host === undefined || !ipaddr.isValid(host) || !(port >= 0 && port <= 65535))
    throw new VpslineError('EVPSLINE_BAD_OPTION', `${option} wants ADDRESS:PORT, like ${example} (got ${listen}).`, 2);
  return { host, port };
}
