// The lab DNS server (lab/dns-server.ts) on a namespace's loopback, made the
// namespace's resolver: names and Team Cymru AS answers for mtr and vpsline.
// It logs every question, so a test can say what was asked and what was not.
import { projectRoot } from '../../lab/checkout.js';
import type { DnsConfig } from '../../lab/dns-server.js';
import type { Lab, Netns } from '../../lab/netns.js';
import { DNS_ADDRESS } from './cases.js';

export interface LabDns {
  /** The questions asked so far, as "<type> <name>" (type 12 PTR, 16 TXT). */
  queries(): string[];
}

export async function startDns(lab: Lab, ns: Netns, config: Omit<DnsConfig, 'listen'>): Promise<LabDns> {
  ns.ip('addr', 'add', `${DNS_ADDRESS}/32`, 'dev', 'lo');
  const child = lab.spawn(
    ns,
    process.execPath,
    [
      '--import',
      'tsx',
      `${projectRoot}/lab/dns-server.ts`,
      JSON.stringify({ ...config, listen: DNS_ADDRESS, log: true }),
    ],
    { cwd: projectRoot, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.startsWith('ready\n')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the DNS server exited with ${code}`)));
  });
  ns.useNameserver(DNS_ADDRESS);
  return {
    queries: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('query '))
        .map((l) => l.slice('query '.length)),
  };
}
