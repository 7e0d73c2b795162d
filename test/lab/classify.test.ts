// End to end: traces produced by real tools on a simulated path whose hops a
// test carrier file maps to carriers, read back by `vpsline classify`.
// (Only lab addresses are traced; the carrier names are just labels here.)
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { projectRoot } from '../../lab/checkout.js';
import { labSkipReason, type Netns } from '../../lab/netns.js';
import { useSimulatedPath } from './suite.js';
import { toolSkipReason } from '../../lab/tools.js';
import { scratchDir } from '../support/scratch.js';

const skip = labSkipReason();
const vpsline = `${projectRoot}/bin/vpsline.js`;

/** The twenty-ms path: hops 2-3 play CN2, hop 4 Unicom 4837, the target a Unicom provincial network. */
function carrierFile(): string {
  const file = join(scratchDir('vpsline-carriers-'), 'lab.json');
  writeFileSync(
    file,
    JSON.stringify({
      carriers: [
        {
          id: 'cn2',
          asn: 4809,
          family: 'ct',
          prefixes: ['198.18.101.0/24', '198.18.102.0/24', '2001:2:0:101::/64', '2001:2:0:102::/64'],
        },
        { id: 'cu-4837', asn: 4837, family: 'cu', prefixes: ['198.18.103.0/24', '2001:2:0:103::/64'] },
        // The target's own network: a Chinese provincial one, as a return path's target is.
        { id: 'cu-access', family: 'cu', role: 'access', prefixes: ['198.18.200.0/24', '2001:2:0:200::/64'] },
      ],
    }),
  );
  return file;
}

async function produce(ns: Netns, cmd: string, args: string[]): Promise<string> {
  return (
    await promisify(execFile)('ip', ['netns', 'exec', ns.name, cmd, ...args], {
      cwd: projectRoot,
      encoding: 'utf8',
      timeout: 60_000,
    })
  ).stdout;
}

async function classifyText(
  text: string,
  carriers: string,
): Promise<{ verdict: string; landing: string | null; format: string }> {
  const child = execFile(process.execPath, [vpsline, 'classify', '--carriers', carriers, '--json', '-'], {
    cwd: projectRoot,
    encoding: 'utf8',
  });
  child.stdin!.end(text);
  const out = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: string) => (buf += d));
    child.once('close', (code) => (code === 0 ? resolve(buf) : reject(new Error(`classify exited with ${code}`))));
  });
  return JSON.parse(out);
}

describe('classify traces made by real tools', { skip }, () => {
  const path = useSimulatedPath('twenty-ms');
  const carriers = carrierFile();
  const cases: { name: string; cmd: string; args: string[]; format: string; needs?: string }[] = [
    {
      name: 'vpsline mtr --json',
      cmd: process.execPath,
      args: [vpsline, 'mtr', '--json', '-c', '3', '-i', '0.1', '198.18.200.1'],
      format: 'vpsline-json',
    },
    {
      name: 'vpsline mtr --json, IPv6',
      cmd: process.execPath,
      args: [vpsline, 'mtr', '--json', '-c', '3', '-i', '0.1', '2001:2:0:200::1'],
      format: 'vpsline-json',
    },
    {
      name: 'mtr --json -n',
      cmd: 'mtr',
      args: ['--json', '-n', '-c', '3', '-i', '0.2', '198.18.200.1'],
      format: 'mtr-json',
      needs: 'mtr',
    },
    {
      name: 'mtr -rwn',
      cmd: 'mtr',
      args: ['-rwn', '-c', '3', '-i', '0.2', '198.18.200.1'],
      format: 'mtr-report',
      needs: 'mtr',
    },
    {
      name: 'mtr -rwb',
      cmd: 'mtr',
      args: ['-rwb', '-c', '3', '-i', '0.2', '198.18.200.1'],
      format: 'mtr-report',
      needs: 'mtr',
    },
    {
      name: 'vpsline mtr -rwz (AS column)',
      cmd: process.execPath,
      args: [vpsline, 'mtr', '-rwnz', '-c', '3', '-i', '0.1', '198.18.200.1'],
      format: 'mtr-report',
    },
    {
      name: 'traceroute -n',
      cmd: 'traceroute',
      args: ['-n', '-q', '1', '-w', '1', '198.18.200.1'],
      format: 'traceroute',
      needs: 'traceroute',
    },
    {
      name: 'traceroute (with names)',
      cmd: 'traceroute',
      args: ['-q', '1', '-w', '1', '198.18.200.1'],
      format: 'traceroute',
      needs: 'traceroute',
    },
  ];
  for (const c of cases) {
    test(c.name, {
      skip: (c.needs && toolSkipReason(c.needs, c.needs === 'mtr' ? 'mtr-tiny' : c.needs)) || false,
    }, async () => {
      const text = await produce(path.sim.ns, c.cmd, c.args);
      const v = await classifyText(text, carriers);
      assert.equal(v.format, c.format);
      assert.equal(v.verdict, 'cn2-gia', text);
      assert.equal(v.landing, 'cu-4837');
    });
  }

  test('vpsline mtr --json | vpsline classify, through a shell pipe', async () => {
    const out = await produce(path.sim.ns, 'sh', [
      '-c',
      `"${process.execPath}" "${vpsline}" mtr --json -c 2 -i 0.1 198.18.200.1 | ` +
        `"${process.execPath}" "${vpsline}" classify --carriers "${carriers}"`,
    ]);
    assert.match(out, /^Line: +CN2 GIA \(cn2-gia\)/m);
    assert.match(out, /^Landing: +China Unicom 4837 \(169\) \(cu-4837\)$/m);
  });
});
