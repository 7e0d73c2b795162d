// `npm test`: every test/**/*.test.ts through node's test runner (with tsx).
// Files run one at a time: lab tests measure timings and must not compete.
// Extra arguments are passed through (e.g. a file filter: npm test -- test/packet).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? find(p) : e.name.endsWith('.test.ts') ? [relative(root, p)] : [];
  });
}

const files = find(join(root, 'test'))
  .sort()
  .filter((f) => !filters.length || filters.some((x) => f.includes(x)));
if (!files.length) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
const labFiles = files.filter((f) => f.startsWith('test/lab/') && !f.endsWith('sim-path.test.ts'));
const note = `NOTE: not root: the ${labFiles.length} lab test files skip their network tests (namespaces need root; CI runs them as root).`;
if (process.getuid?.() !== 0 && labFiles.length) console.log(note);
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files], {
  cwd: root,
  stdio: 'inherit',
});
if (process.getuid?.() !== 0 && labFiles.length) console.log(note);
process.exit(r.status ?? 1);
