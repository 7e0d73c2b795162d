// Records the golden outputs: runs Debian's mtr for every case of cases.ts
// on the golden lab path and writes test/golden/mtr/<name>.txt and index.json
// (command, mtr version, date). Needs root. Run again only on purpose:
//   node --import tsx test/golden/record.ts [case name ...]
// (names given: only those cases are recorded again, the index keeps the others;
// GOLDEN_ATTEMPTS=n allows more runs per case on a busy machine).
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { projectRoot } from '../../lab/checkout.js';
import { Lab } from '../../lab/netns.js';
import { loadNamedScenario } from '../../lab/sim/scenario.js';
import { Simulator } from '../../lab/sim/simulator.js';
import { GOLDEN_CASES, GOLDEN_DIR, GOLDEN_DNS, GOLDEN_SCENARIO } from './cases.js';
import { startDns } from './lab-dns.js';

const MAX_ATTEMPTS = Number(process.env.GOLDEN_ATTEMPTS ?? 3);

/** The largest StDev in an output of any format (the last column of report and CSV rows). */
function maxStdev(text: string): number {
  const values = [
    ...[...text.matchAll(/^ *\d+\.[|A ].* ([\d.]+)$/gm)].map((m) => m[1]),
    ...[...text.matchAll(/^MTR\.[^\n]*,([\d.]+)$/gm)].map((m) => m[1]),
    ...[...text.matchAll(/<StDev> *([\d.]+)<\/StDev>/g)].map((m) => m[1]),
    ...[...text.matchAll(/"StDev": ([\d.]+)/g)].map((m) => m[1]),
  ];
  return Math.max(0, ...values.map(Number));
}

const version = execFileSync('mtr', ['--version'], { encoding: 'utf8' }).trim();
// dpkg-query's own ${...} fields, not a template.
const pkgFormat = ['$', '{Package} $', '{Version}'].join('');
const pkg = execFileSync('dpkg-query', ['-W', '-f', pkgFormat, 'mtr-tiny'], { encoding: 'utf8' });
mkdirSync(GOLDEN_DIR, { recursive: true });
const only = process.argv.slice(2);
const indexFile = `${GOLDEN_DIR}index.json`;
const old: Record<string, unknown>[] =
  only.length && existsSync(indexFile) ? JSON.parse(readFileSync(indexFile, 'utf8')) : [];
const index: Record<string, unknown>[] = [];
for (const c of GOLDEN_CASES) {
  if (only.length && !only.includes(c.name)) {
    const kept = old.find((e) => e.file === `${c.name}.txt`);
    if (kept) index.push(kept);
    continue;
  }
  const args = [...c.args, c.target];
  let out = '';
  let attempts = 0;
  // mtr times in userland: on a busy machine a sample now and then reads
  // 1-3 ms high (the scheduler, not the path). Of up to three runs keep the
  // first without such outliers, or the one with the smallest largest StDev,
  // so the file shows the path's fixed delays; attempts and StDev are recorded.
  while (attempts < MAX_ATTEMPTS) {
    attempts++;
    // A fresh simulator per run: its random ECMP choices start from the same seed.
    const run = new Lab();
    try {
      const sim = await Simulator.start(run, loadNamedScenario(GOLDEN_SCENARIO));
      await startDns(run, sim.ns, GOLDEN_DNS);
      const r = await promisify(execFile)('ip', ['netns', 'exec', sim.ns.name, 'mtr', ...args], {
        cwd: projectRoot,
        encoding: 'utf8',
        timeout: 60_000,
      });
      if (!out || maxStdev(r.stdout) < maxStdev(out)) out = r.stdout;
    } finally {
      await run.close();
    }
    if (maxStdev(out) <= 0.1) break;
  }
  writeFileSync(`${GOLDEN_DIR}${c.name}.txt`, out);
  index.push({
    file: `${c.name}.txt`,
    command: `mtr ${args.join(' ')}`,
    about: c.about,
    scenario: `lab/scenarios/${GOLDEN_SCENARIO}.yaml`,
    dns: 'GOLDEN_DNS in test/golden/cases.ts',
    mtr: version,
    package: pkg,
    recordedAt: new Date().toISOString(),
    attempts,
    maxStdev: maxStdev(out),
  });
  process.stdout.write(`${c.name}: mtr ${args.join(' ')}\n`);
}
writeFileSync(indexFile, `${JSON.stringify(index, null, 2)}\n`);
