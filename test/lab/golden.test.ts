// vpsline mtr on the path real mtr 0.95 was recorded on (test/golden/mtr/,
// lab/scenarios/golden.yaml: fixed delays, ECMP, MPLS, a silent hop), with
// the same options, compared byte for byte with mtr's output. Masked: the
// start time and RTTs within 0.1 ms (test/golden/mask.ts), and in hops a
// late answer touched (below) every RTT but Best; vpsline's JSON additions
// (the `vpsline` objects) are taken out first. Each case gets a fresh
// simulator (its ECMP choices start from the same seed, as they did for mtr)
// and runs under the recorded host name (a UTS namespace).
// Which ECMP router answered last (the one a report names, the other goes
// on the line under it) is a coin toss per run: the simulator picks one at
// random per packet, and the two tools' probes reach it in different orders.
// The golden path names both routers alike, so with names on the text does
// not depend on it; with addresses (-n, -b, IPv6) a run is also accepted
// with the two addresses exchanged (same length, so nothing else moves).
// Both tools measured the path here: mtr times in user space, and on a busy
// machine the simulator now and then answers late, so in every hop only Best
// is compared within 0.1 ms and the other RTT values need only be in their
// place (maskGolden's allHubsMeasured). The RTT text itself is checked
// exactly by test/report/golden.test.ts, RTT accuracy by timing.test.ts. A case gets up to three
// runs; a renderer difference fails all three, and every run's output is shown.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { projectRoot } from '../../lab/checkout.js';
import { Lab, labSkipReason } from '../../lab/netns.js';
import { loadNamedScenario } from '../../lab/sim/scenario.js';
import { Simulator } from '../../lab/sim/simulator.js';
import { hasCommand } from '../../lab/tools.js';
import {
  GOLDEN_CASES,
  GOLDEN_DIR,
  GOLDEN_DNS,
  GOLDEN_SCENARIO,
  type GoldenCase,
  goldenAsnCsv,
  V4,
} from '../golden/cases.js';
import { startDns } from '../golden/lab-dns.js';
import { maskGolden } from '../golden/mask.js';
import { formatOf, parseGolden, withoutExtensions } from '../golden/rebuild.js';
import { scratchDir } from '../support/scratch.js';

const skip = labSkipReason() ?? (hasCommand('unshare') ? undefined : 'unshare (util-linux) is not installed');

const ATTEMPTS = 3;
/** The ECMP hop's two routers on each golden path, by target. */
const ECMP: Record<string, [string, string]> = {
  '198.18.230.1': ['198.18.131.1', '198.18.131.2'],
  '2001:2:0:230::1': ['2001:2:0:131::1', '2001:2:0:131::2'],
  '198.18.231.1': ['198.18.141.1', '198.18.141.2'],
};

/** `text` with the ECMP hop's two addresses exchanged. */
function swapEcmp(text: string, target: string): string {
  const pair = ECMP[target];
  if (!pair) return text;
  const [a, b] = pair;
  return text
    .split(a)
    .map((part) => part.split(b).join(a))
    .join(b);
}

/**
 * The AS answers real mtr got from the lab DNS server, as a test dataset in the shipped data's
 * format (ip-location-db CSV), compiled by the same builder as data/asn-index.bin.gz.
 */
let labAsnIndex: string | undefined;
async function asnIndex(): Promise<string> {
  if (labAsnIndex) return labAsnIndex;
  const dir = scratchDir('vpsline-golden-asn-');
  writeFileSync(join(dir, 'lab-asn.csv'), goldenAsnCsv());
  const out = join(dir, 'lab-asn.bin.gz');
  await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', 'scripts/data-asn.ts', '--csv', join(dir, 'lab-asn.csv'), '--out', out, '--dataset', 'lab'],
    { cwd: projectRoot },
  );
  labAsnIndex = out;
  return out;
}

/** -z cases: AS numbers from the offline index, with no question to any DNS server about them. */
const asksAs = (c: GoldenCase): boolean => c.args.some((a) => /^-[a-zA-Z]*z/.test(a));

/** vpsline mtr with a case's options on a fresh golden path, under host name `host`. */
async function runVpsline(c: GoldenCase, host: string): Promise<string> {
  const lab = new Lab();
  try {
    const sim = await Simulator.start(lab, loadNamedScenario(GOLDEN_SCENARIO));
    const dns = await startDns(lab, sim.ns, GOLDEN_DNS);
    const asnDb = asksAs(c) ? ['--asn-db', await asnIndex()] : [];
    const r = await promisify(execFile)(
      'unshare',
      [
        '--uts',
        'sh',
        '-c',
        'hostname "$0" && exec "$@"',
        host,
        'ip',
        'netns',
        'exec',
        sim.ns.name,
        process.execPath,
        `${projectRoot}/bin/vpsline.js`,
        'mtr',
        ...c.args,
        ...asnDb,
        c.target,
      ],
      { cwd: projectRoot, encoding: 'utf8', timeout: 60_000 },
    );
    // Names may be asked (PTR, type 12); AS numbers never (Team Cymru's TXT, type 16).
    const asked = dns.queries().filter((q) => q.startsWith('16 ') || q.includes('asn.cymru.com'));
    assert.deepEqual(asked, [], 'vpsline -z asked DNS for AS numbers');
    return r.stdout;
  } finally {
    await lab.close();
  }
}

describe('vpsline mtr against the golden outputs of real mtr 0.95', { skip }, () => {
  for (const c of GOLDEN_CASES) {
    const name = `vpsline mtr ${c.args.join(' ')} ${c.target} (${c.about})`;
    test(name, c.labTodo ? { todo: c.labTodo } : {}, async (t) => {
      const golden = readFileSync(`${GOLDEN_DIR}${c.name}.txt`, 'utf8');
      const host = parseGolden(formatOf(c), golden).source || 'vm';
      let last: { ours: string; golden: string } | undefined;
      for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
        const stdout = await runVpsline(c, host);
        const ours = formatOf(c) === 'json' ? `${withoutExtensions(stdout.trimEnd())}\n` : stdout;
        last = maskGolden(golden, ours, { allHubsMeasured: true });
        if (last.ours === last.golden) return;
        const other = maskGolden(golden, swapEcmp(ours, c.target), { allHubsMeasured: true });
        if (other.ours === other.golden) {
          t.diagnostic(`run ${attempt}: the other ECMP router answered last`);
          return;
        }
        t.diagnostic(`run ${attempt}: vpsline printed:\n${stdout}`);
      }
      assert.equal(last?.ours, last?.golden);
    });
  }

  test("vpsline mtr -rwnz: every hop's AS from the test dataset, and not one DNS question", async () => {
    const lab = new Lab();
    try {
      const sim = await Simulator.start(lab, loadNamedScenario(GOLDEN_SCENARIO));
      const dns = await startDns(lab, sim.ns, GOLDEN_DNS);
      const r = await promisify(execFile)(
        'ip',
        ['netns', 'exec', sim.ns.name, process.execPath, `${projectRoot}/bin/vpsline.js`, 'mtr', '-rwnz'].concat([
          '--asn-db',
          await asnIndex(),
          '-c',
          '3',
          '-i',
          '0.1',
          V4,
        ]),
        { cwd: projectRoot, encoding: 'utf8', timeout: 60_000 },
      );
      const rows = r.stdout.split('\n').filter((l) => /^ +\d+\. AS/.test(l));
      // mtr 0.95 runs a 10-digit AS into the host (AS4294967294198.18.230.1), and so does vpsline.
      for (const want of [/^ {2}1\. AS64500 {2}198\.18\.130\.1 /, /^ {2}3\. AS4134 {3}198\.18\.132\.1 /])
        assert.ok(
          rows.some((l) => want.test(l)),
          `${want}\n${r.stdout}`,
        );
      assert.ok(
        rows.some((l) => l.startsWith(`  6. AS4294967294${V4} `)),
        r.stdout,
      );
      assert.deepEqual(dns.queries(), [], 'DNS questions');
    } finally {
      await lab.close();
    }
  });
});
