// What this process may open, read from the kernel rather than guessed, and
// the words that explain a refusal.
import { readFileSync } from 'node:fs';

const CAP_NET_RAW = 13;

/** True when CAP_NET_RAW is in the effective set (raw sockets will open). */
export function hasCapNetRaw(): boolean {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
    return m ? (BigInt(`0x${m[1]}`) & (1n << BigInt(CAP_NET_RAW))) !== 0n : false;
  } catch {
    return false;
  }
}

/** net.ipv4.ping_group_range of this network namespace, or null when unreadable. */
export function pingGroupRange(): [number, number] | null {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ping_group_range', 'utf8').trim().split(/\s+/).map(Number);
    return lo !== undefined && hi !== undefined && Number.isFinite(lo) && Number.isFinite(hi) ? [lo, hi] : null;
  } catch {
    return null;
  }
}

export const RAW_REMEDY =
  'Raw ICMP sockets need CAP_NET_RAW. Grant it to the service, not to node: a systemd unit with ' +
  '`AmbientCapabilities=CAP_NET_RAW` and `CapabilityBoundingSet=CAP_NET_RAW`, `setpriv --inh-caps=+net_raw ' +
  '--ambient-caps=+net_raw vpsline ...`, or `--cap-add NET_RAW` for a container. Do not setcap the node binary: ' +
  'that gives every script on the machine raw sockets.';

export function pingRemedy(): string {
  const range = pingGroupRange();
  const now = range ? `it is "${range[0]} ${range[1]}" here, ` : '';
  return (
    'Unprivileged ICMP (ping) sockets are allowed only for groups in net.ipv4.ping_group_range; ' +
    `${now}so this user's group is outside it. An administrator can open it with ` +
    '`sysctl -w net.ipv4.ping_group_range="0 2147483647"` (persist it in /etc/sysctl.d/), ' +
    'or run vpsline with CAP_NET_RAW for raw sockets.'
  );
}
