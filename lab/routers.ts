// A chain of real Linux routers in namespaces, joined by veth pairs:
//
//   client -- r1 -- r2 -- ... -- rN -- server
//
// Link k (0-based, from the client) is 198.18.(k+1).0/24 and 2001:2:0:(k+1)::/64;
// the node on its left is .1 / ::1, the node on its right .2 / ::2. So, seen
// from the client, router i answers from 198.18.i.2 and the server is
// 198.18.(N+1).2. Kernel behaviour (TTL expiry, ICMP generation, rate limits,
// iptables) is the real thing here; use the simulator for shaped paths.
import type { Lab, Netns } from './netns.js';

export interface RouterChain {
  client: Netns;
  routers: Netns[];
  server: Netns;
  /** Addresses the client should see, hop by hop (routers, then the server). */
  hops: { v4: string[]; v6: string[] };
  server4: string;
  server6: string;
}

export function v4(link: number, side: 1 | 2): string {
  return `198.18.${link + 1}.${side}`;
}

export function v6(link: number, side: 1 | 2): string {
  return `2001:2:0:${link + 1}::${side}`;
}

export function buildRouterChain(lab: Lab, routerCount: number): RouterChain {
  const client = lab.namespace('cli');
  const routers = Array.from({ length: routerCount }, (_, i) => lab.namespace(`r${i + 1}`));
  const server = lab.namespace('srv');
  const nodes = [client, ...routers, server];
  const links = nodes.length - 1;
  for (let k = 0; k < links; k++) {
    const left = nodes[k]!;
    const right = nodes[k + 1]!;
    const a = `vla${k}`;
    const b = `vlb${k}`;
    left.ip('link', 'add', a, 'type', 'veth', 'peer', 'name', b, 'netns', right.name);
    left.ip('addr', 'add', `${v4(k, 1)}/24`, 'dev', a);
    right.ip('addr', 'add', `${v4(k, 2)}/24`, 'dev', b);
    left.ip('-6', 'addr', 'add', `${v6(k, 1)}/64`, 'dev', a, 'nodad');
    right.ip('-6', 'addr', 'add', `${v6(k, 2)}/64`, 'dev', b, 'nodad');
    left.ip('link', 'set', a, 'up');
    right.ip('link', 'set', b, 'up');
    // Static neighbours: ARP and IPv6 neighbour discovery would hold the first
    // probes back (up to seconds for IPv6) and make timings depend on luck.
    const macA = mac(left, a);
    const macB = mac(right, b);
    left.ip('neigh', 'replace', v4(k, 2), 'lladdr', macB, 'dev', a, 'nud', 'permanent');
    right.ip('neigh', 'replace', v4(k, 1), 'lladdr', macA, 'dev', b, 'nud', 'permanent');
    left.ip('-6', 'neigh', 'replace', v6(k, 2), 'lladdr', macB, 'dev', a, 'nud', 'permanent');
    right.ip('-6', 'neigh', 'replace', v6(k, 1), 'lladdr', macA, 'dev', b, 'nud', 'permanent');
  }
  nodes.forEach((n, i) => {
    // Routes: everything to the left via the left neighbour, to the right via the right one.
    for (let k = 0; k < links; k++) {
      if (k === i - 1 || k === i) continue; // directly connected
      const via = k < i - 1 ? i - 1 : i; // link index toward that side
      const gw4 = k < i - 1 ? v4(via, 1) : v4(via, 2);
      const gw6 = k < i - 1 ? v6(via, 1) : v6(via, 2);
      n.ip('route', 'add', `198.18.${k + 1}.0/24`, 'via', gw4);
      n.ip('-6', 'route', 'add', `2001:2:0:${k + 1}::/64`, 'via', gw6);
    }
    n.sysctl('net.ipv4.ip_forward', '1');
    n.sysctl('net.ipv6.conf.all.forwarding', '1');
    // Real routers rate-limit ICMP; the lab turns it off unless a test wants it.
    n.sysctl('net.ipv4.icmp_ratelimit', '0');
    n.sysctl('net.ipv6.icmp.ratelimit', '0');
    n.sysctl('net.ipv4.ping_group_range', '0 2147483647');
  });
  const hops = {
    v4: [...routers.map((_, i) => v4(i, 2)), v4(links - 1, 2)],
    v6: [...routers.map((_, i) => v6(i, 2)), v6(links - 1, 2)],
  };
  return { client, routers, server, hops, server4: v4(links - 1, 2), server6: v6(links - 1, 2) };
}

function mac(ns: Netns, dev: string): string {
  const info = JSON.parse(ns.ip('-j', 'link', 'show', 'dev', dev)) as { address: string }[];
  return info[0]!.address;
}
