// Unprivileged lab runs (uid 65534) need to read the project's files. A
// checkout inside a private folder (say one made by `mktemp -d`) is not
// readable for them, so stage a copy they can read: hard links when on the
// same filesystem (nearly free), a plain copy otherwise. Removed at exit.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const projectRoot = new URL('../', import.meta.url).pathname.replace(/\/$/, '');

const staged = new Map<number, string>();

function canRead(uid: number, dir: string): boolean {
  const asUser = (...args: string[]) =>
    spawnSync('setpriv', ['--reuid', String(uid), '--regid', String(uid), '--clear-groups', 'test', ...args], {
      stdio: 'ignore',
    }).status === 0;
  return (
    asUser('-r', join(dir, 'package.json')) &&
    asUser('-x', join(dir, 'node_modules')) &&
    asUser('-r', join(dir, 'build', 'Release', 'vpsline_probe.node'))
  );
}

/** A path of the project that `uid` can read and run from. */
export function checkoutFor(uid: number): string {
  if (uid === 0) return projectRoot;
  const known = staged.get(uid);
  if (known) return known;
  let dir = projectRoot;
  if (!canRead(uid, projectRoot)) {
    const parent = mkdtempSync(join(tmpdir(), 'vpsline-lab-'));
    chmodSync(parent, 0o755);
    dir = join(parent, 'vpsline');
    try {
      execFileSync('cp', ['-al', projectRoot, dir], { stdio: 'ignore' });
    } catch {
      rmSync(dir, { recursive: true, force: true });
      execFileSync('cp', ['-a', projectRoot, dir]);
    }
    process.on('exit', () => rmSync(parent, { recursive: true, force: true }));
    if (!canRead(uid, dir)) throw new Error(`uid ${uid} cannot read the staged checkout ${dir}`);
  }
  staged.set(uid, dir);
  return dir;
}
