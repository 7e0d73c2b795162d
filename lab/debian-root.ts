// The root of a container or guest without a download: empty folders, the
// host's os-release and alternatives, and the merged-/usr links (bin, lib,
// lib64, sbin) into a /usr that the caller mounts from the host. Used by the
// real containers (test/lab/virt-layers.test.ts) and the QEMU guests
// (lab/qemu-guest.ts).
import { copyFileSync, cpSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

export function debianRootSkeleton(root: string, folders: string[]): void {
  for (const d of ['usr', 'etc', ...folders]) mkdirSync(join(root, d), { recursive: true });
  copyFileSync('/etc/os-release', join(root, 'etc/os-release'));
  // virt-what finds its helper with `which`, an alternatives link on Debian.
  cpSync('/etc/alternatives', join(root, 'etc/alternatives'), { recursive: true, verbatimSymlinks: true });
  for (const d of ['bin', 'lib', 'lib64', 'sbin']) symlinkSync(`usr/${d}`, join(root, d));
}
