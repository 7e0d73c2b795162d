// Address parsing for the hot paths of lookups (the AS index, the carrier
// table): the plain forms without allocating. Anything else returns "not
// parsed" and the caller asks ipaddr.js, which knows every form.

/** Dotted-quad IPv4 to a number without allocating; -1 when it is not one. */
export function parseV4(s: string): number {
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      n = n * 256 + part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      part = part * 10 + (c - 48);
      digits++;
      if (part > 255) return -1;
    } else return -1;
  }
  return dots === 3 && digits > 0 ? n * 256 + part : -1;
}

/**
 * Hex IPv6 ("2400:9380::1", no embedded IPv4, no zone) into `out` as four words without allocating;
 * false when it is not that form (the caller then asks ipaddr.js, which knows every form).
 */
export function parseV6(s: string, out: Uint32Array): boolean {
  const groups = GROUPS;
  let n = 0;
  let gap = -1;
  let i = 0;
  if (s.startsWith('::')) {
    gap = 0;
    i = 2;
  }
  while (i < s.length) {
    let value = 0;
    let digits = 0;
    for (; i < s.length && digits <= 4; i++) {
      const c = s.charCodeAt(i);
      const h = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (h < 0) break;
      value = (value << 4) | h;
      digits++;
    }
    if (digits === 0 || digits > 4 || n === 8) return false;
    groups[n++] = value;
    if (i === s.length) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (i < s.length && s.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = n;
      i++;
    } else if (i === s.length) return false; // a trailing single ':'
  }
  if (gap < 0 ? n !== 8 : n > 7) return false;
  const fill = 8 - n;
  for (let k = 0, j = 0; k < 8; k++) {
    const v = gap >= 0 && k >= gap && k < gap + fill ? 0 : (groups[j++] ?? 0);
    if (k % 2 === 0) out[k >> 1] = v << 16;
    else out[k >> 1] = ((out[k >> 1] ?? 0) | v) >>> 0;
  }
  return true;
}
const GROUPS = new Uint16Array(8);
