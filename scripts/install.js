// `install` hook: build the native addon with node-gyp, offline.
// - Skipped when the built addon is newer than its sources (npx re-runs
//   install scripts as the calling user, who may not own the checkout).
// - Uses the Node headers installed next to this node binary when they exist,
//   so node-gyp never tries to download them.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const addon = join(root, 'build', 'Release', 'vpsline_probe.node');
const native = readdirSync(join(root, 'native'))
  .filter((f) => f.endsWith('.c') || f.endsWith('.h'))
  .map((f) => `native/${f}`);
const sources = [...native, 'binding.gyp'].map((f) => statSync(join(root, f)).mtimeMs);
if (existsSync(addon) && statSync(addon).mtimeMs >= Math.max(...sources)) process.exit(0);

const args = ['rebuild'];
const prefix = dirname(dirname(process.execPath));
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h')))
  args.push(`--nodedir=${prefix}`);
const gyp = process.env.npm_config_node_gyp;
if (gyp) execFileSync(process.execPath, [gyp, ...args], { cwd: root, stdio: 'inherit' });
else execFileSync('node-gyp', args, { cwd: root, stdio: 'inherit' });
