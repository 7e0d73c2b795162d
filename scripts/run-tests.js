// The test runner behind `npm test`, `npm run test:unit` and `npm run test:lab`.
//   node scripts/run-tests.js [--unit | --fuzz | --lab] [filter...]
// Unit tests: every test/**/*.test.ts outside test/lab/, plus the pure
// test/lab/sim-path.test.ts, several files at a time. Lab tests: the other
// test/lab/*.test.ts, one file at a time (they measure timings and must not
// compete). Fuzz tests (test/native/*fuzz*): 20 s of sanitizer fuzzing of the
// C receive parser, run beside the unit group. With no flag: unit and fuzz,
// then lab tests; the exit status is non-zero if any group fails.
// A filter keeps the files whose path contains it (npm test -- test/packet).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

// Files run at once in the unit group. Measured on an idle 2-core machine
// (30 files): 1 at a time 13.7 s, 2: 8.9 s, 4: 8.6 s, 6: 8.6 s. Above 2 the
// gain is small (files wait on child processes and sockets); 4 is as fast
// as 6 and starts fewer processes next to the timing-sensitive tests.
const UNIT_CONCURRENCY = 4;
const PURE_LAB_FILES = ['test/lab/sim-path.test.ts'];

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const only = args.find((a) => a === '--unit' || a === '--fuzz' || a === '--lab');
const filters = args.filter((a) => a !== only);

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? find(p) : e.name.endsWith('.test.ts') ? [relative(root, p)] : [];
  });
}

const files = find(join(root, 'test'))
  .sort()
  .filter((f) => !filters.length || filters.some((x) => f.includes(x)));
const isLab = (f) => f.startsWith('test/lab/') && !PURE_LAB_FILES.includes(f);
const isFuzz = (f) => /^test\/native\/.*fuzz.*\.test\.ts$/.test(f);
const groups = [
  { name: 'unit', files: files.filter((f) => !isLab(f) && !isFuzz(f)), concurrency: UNIT_CONCURRENCY },
  { name: 'fuzz', files: files.filter(isFuzz), concurrency: 1 },
  { name: 'lab', files: files.filter(isLab), concurrency: 1 },
].filter((g) => !only || only === `--${g.name}`);

if (!groups.some((g) => g.files.length)) {
  console.error(`no ${only ? `${only.slice(2)} ` : ''}test files match ${filters.join(' ')}`);
  process.exit(1);
}

const notRoot = process.getuid?.() !== 0;
const failed = [];

function header(g) {
  return `\n== ${g.name} tests: ${g.files.length} files, ${g.concurrency} at a time ==\n`;
}

// Started as root, vpsline carries on as --user (default nobody) once its
// sockets are open, and refuses to when that user cannot read its files. A
// checkout in a private folder (mktemp -d, as in CI) is such a case, so the
// tests run vpsline as root-without-privileges (--user root, through
// VPSLINE_USER); test/lab/privileges.test.ts clears this and checks the
// default switch to nobody from a copy nobody can read.
//
// The tests' temporary files go to one folder of this run (TMPDIR), removed
// at the end; what a test left there is named, so a leak is seen and fixed
// rather than piling up in /tmp. Mode 1777 like /tmp: the lab runs some
// processes as other users, who make their own folders in it.
const scratch = mkdtempSync(join(tmpdir(), 'vpsline-test-run-'));
chmodSync(scratch, 0o1777);
const testEnv = { ...process.env, VPSLINE_USER: 'root', TMPDIR: scratch };

/** What the tests left in the run's TMPDIR (tsx's compile cache is meant to stay), then removed. */
function leftovers() {
  const left = readdirSync(scratch).filter((name) => !name.startsWith('tsx-'));
  rmSync(scratch, { recursive: true, force: true });
  return left;
}

function nodeTest(g) {
  return ['--import', 'tsx', '--test', `--test-concurrency=${g.concurrency}`, ...g.files];
}

/** A group run in the background with its output kept, to print whole when it ends. */
function background(g) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, nodeTest(g), { cwd: root, env: testEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => out.push(d));
    child.on('close', (code) => resolve({ code, output: Buffer.concat(out) }));
  });
}

// The fuzz group is one process on one core while the unit group waits on
// child processes and sockets: they run side by side, and its output is
// printed after the unit group's.
const fuzz = groups.find((g) => g.name === 'fuzz' && g.files.length);
const fuzzRun = fuzz && groups.some((g) => g.name === 'unit' && g.files.length) ? background(fuzz) : undefined;
for (const g of groups) {
  if (!g.files.length) continue;
  if (g === fuzz && fuzzRun) {
    const r = await fuzzRun;
    process.stdout.write(header(g));
    process.stdout.write(r.output);
    if (r.code !== 0) failed.push(g.name);
    continue;
  }
  const note =
    `NOTE: not root: the ${g.files.length} lab test files skip their network tests ` +
    '(namespaces need root; CI runs them as root).';
  const noteNeeded = g.name === 'lab' && notRoot;
  process.stdout.write(header(g));
  if (noteNeeded) console.log(note);
  const r = spawnSync(process.execPath, nodeTest(g), { cwd: root, env: testEnv, stdio: 'inherit' });
  if (noteNeeded) console.log(note);
  if (r.status !== 0) failed.push(g.name);
}
const left = leftovers();
if (left.length) {
  console.log(`\nFAILED: the tests left ${left.length} temporary files or folders: ${left.sort().join(', ')}`);
  failed.push('clean-up');
}
if (groups.length > 1)
  console.log(`\n${failed.length ? `FAILED: ${failed.join(', ')} tests` : 'all test groups passed'}`);
process.exit(failed.length ? 1 : 0);
