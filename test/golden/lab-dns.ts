// The lab DNS server (lab/dns-server.ts) on a namespace's loopback, made the
// namespace's resolver: names and Team Cymru AS answers for mtr and vpsline.
import { projectRoot } from '../../lab/checkout.js';
import type { DnsConfig } from '../../lab/dns-server.js';
import type { Lab, Netns } from '../../lab/netns.js';
import { DNS_ADDRESS } from './cases.js';

export async function startDns(lab: Lab, ns: Netns, config: Omit<DnsConfig, 'listen'>): Promise<void> {
  ns.ip('addr', 'add', `${DNS_ADDRESS}/32`, 'dev', 'lo');
  const child = lab.spawn(
    ns,
    process.execPath,
    ['--import', 'tsx', `${projectRoot}/lab/dns-server.ts`, JSON.stringify({ ...config, listen: DNS_ADDRESS })],
    { cwd: projectRoot, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the DNS server exited with ${code}`)));
  });
  ns.useNameserver(DNS_ADDRESS);
}
