// A QEMU guest (TCG: QEMU emulates the CPU) that boots, runs a few commands
// and powers off: Debian's own kernel (unpacked by lab/fetch-guest-kernel.sh),
// an initramfs made here of busybox and a short init, and three virtio-9p
// shares: the host's /usr and the checkout read-only, an output folder
// writable. The guest's root is the initramfs, so nothing of the host's root
// (its /.dockerenv, its /etc) is in it but the os-release and alternatives a
// Debian /usr expects.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { debianRootSkeleton } from './debian-root.js';

export const GUEST_KERNEL = process.env.VPSLINE_GUEST_KERNEL ?? '/var/cache/vpsline-lab/guest-kernel';
const BUSYBOX = '/bin/busybox';
const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';

export interface GuestMachine {
  /** QEMU's machine type: pc is i440FX + PIIX, q35 is Q35 + ICH9. */
  machine: 'pc' | 'q35';
  firmware: 'seabios' | 'ovmf';
  /**
   * Load the cpuid driver, so /dev/cpu/0/cpuid can be read. Debian does not load it by itself: without it
   * a guest shows what a saved machine shows, the kernel's traces but no CPUID.
   */
  cpuidDriver: boolean;
}

export interface GuestCommand {
  /** Output files in the output folder: NAME.stdout, NAME.stderr, NAME.status. */
  name: string;
  argv: string[];
}

export interface GuestRun {
  /** QEMU's exit status and whether it ran out of time. */
  status: number | null;
  timedOut: boolean;
  /** The guest's serial console. */
  serial: string;
  seconds: number;
  /** Each command's output, read back from the output folder. */
  results: Map<string, { stdout: string; stderr: string; status: number | null }>;
}

/** Why guests of this kind cannot be booted here, or undefined. */
export function guestMissing(m: GuestMachine): string | undefined {
  const qemu = spawnSync('qemu-system-x86_64', ['--version'], { stdio: 'ignore' });
  if (qemu.status !== 0) return 'qemu-system-x86_64 is not installed (Debian: qemu-system-x86)';
  if (!existsSync(BUSYBOX)) return `${BUSYBOX} is missing (Debian: busybox-static)`;
  if (spawnSync('cpio', ['--version'], { stdio: 'ignore' }).status !== 0) return 'cpio is not installed';
  if (!existsSync(join(GUEST_KERNEL, 'PACKAGE')))
    return `no guest kernel in ${GUEST_KERNEL}: run bash lab/fetch-guest-kernel.sh as root (.ci/run does)`;
  if (m.firmware === 'ovmf' && !existsSync(OVMF_CODE)) return `${OVMF_CODE} is missing (Debian: ovmf)`;
  return undefined;
}

const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

/** The guest's init: mount, load the 9p modules, mount the shares, run the job, power off. */
function initScript(repo: string): string {
  const bb = '/busybox/busybox';
  const mount9p = (tag: string, at: string, ro: boolean) =>
    `${bb} mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose${ro ? ',ro' : ''} ${tag} ${at}`;
  return [
    `#!${bb} sh`,
    `${bb} mount -t proc proc /proc`,
    `${bb} mount -t sysfs sysfs /sys`,
    `${bb} mount -t devtmpfs devtmpfs /dev`,
    `${bb} mount -t tmpfs tmpfs /run`,
    `while read m; do ${bb} insmod /busybox/modules/$m || echo "insmod $m failed"; done < /busybox/modules/order`,
    mount9p('usr', '/usr', true),
    `${bb} mkdir -p ${quote(repo)}`,
    mount9p('repo', quote(repo), true),
    mount9p('out', '/out', false),
    'export PATH=/usr/libexec:/usr/sbin:/usr/bin HOME=/root',
    'cd /',
    `${bb} sh /job.sh`,
    `${bb} sync`,
    `${bb} echo vpsline-guest-done`,
    `${bb} poweroff -f`,
    '',
  ].join('\n');
}

function jobScript(commands: GuestCommand[]): string {
  return commands
    .map(({ name, argv }) => {
      const n = quote(name);
      return `${argv.map(quote).join(' ')} > /out/${n}.stdout 2> /out/${n}.stderr; echo $? > /out/${n}.status`;
    })
    .join('\n');
}

/** Build the initramfs (a newc cpio) in `work`. */
function initramfs(work: string, m: GuestMachine, repo: string, commands: GuestCommand[]): string {
  const root = join(work, 'initramfs');
  debianRootSkeleton(root, ['proc', 'sys', 'dev', 'run', 'tmp', 'out', 'root', 'busybox/modules']);
  copyFileSync(BUSYBOX, join(root, 'busybox/busybox'));
  cpSync(join(GUEST_KERNEL, 'modules'), join(root, 'busybox/modules'), { recursive: true });
  const order = readFileSync(join(GUEST_KERNEL, 'modules/order'), 'utf8').split('\n').filter(Boolean);
  const load = order.filter((ko) => m.cpuidDriver || ko !== 'cpuid.ko');
  writeFileSync(join(root, 'busybox/modules/order'), `${load.join('\n')}\n`);
  writeFileSync(join(root, 'init'), initScript(repo), { mode: 0o755 });
  writeFileSync(join(root, 'job.sh'), jobScript(commands));
  const image = join(work, 'initramfs.cpio');
  const list = spawnSync('find', ['.', '-mindepth', '1'], { cwd: root, encoding: 'utf8' }).stdout;
  const cpio = spawnSync('cpio', ['--quiet', '-o', '-H', 'newc', '-F', image], { cwd: root, input: list });
  if (cpio.status !== 0) throw new Error(`cpio failed: ${cpio.stderr}`);
  return image;
}

/** The QEMU command line for one guest (OVMF's variable store is `work`/OVMF_VARS.fd). */
export function qemuArgs(m: GuestMachine, work: string, initrd: string, repo: string, out: string): string[] {
  const share = (tag: string, path: string, ro: boolean) => [
    ...['-fsdev', `local,id=${tag},path=${path},security_model=none${ro ? ',readonly=on' : ''}`],
    ...['-device', `virtio-9p-pci,fsdev=${tag},mount_tag=${tag}`],
  ];
  const firmware: string[] = [];
  if (m.firmware === 'ovmf') {
    const vars = join(work, 'OVMF_VARS.fd');
    firmware.push('-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_CODE}`);
    firmware.push('-drive', `if=pflash,format=raw,unit=1,file=${vars}`);
  }
  return [
    // TCG only: KVM inside this machine's Firecracker VM stops in the guest's first instructions.
    ...['-machine', `${m.machine},accel=tcg`, '-cpu', 'max'],
    ...['-m', '1024', '-smp', '1', '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot'],
    ...['-serial', `file:${join(work, 'serial.log')}`, ...firmware],
    ...['-kernel', join(GUEST_KERNEL, 'vmlinuz'), '-initrd', initrd],
    ...['-append', 'console=ttyS0 panic=-1 quiet'],
    ...share('usr', '/usr', true),
    ...share('repo', repo, true),
    ...share('out', out, false),
  ];
}

/**
 * Boot a guest, run `commands` in it (as root, one after another), and read
 * their output back. `work` is a folder of the caller's that may be removed
 * after; `repo` is the checkout to share.
 */
export function runInGuest(
  m: GuestMachine,
  commands: GuestCommand[],
  opts: { repo: string; work: string; timeoutMs: number },
): GuestRun {
  const out = join(opts.work, 'out');
  mkdirSync(out, { recursive: true });
  const initrd = initramfs(opts.work, m, opts.repo, commands);
  // OVMF writes its variables: each guest gets its own copy of the empty store.
  if (m.firmware === 'ovmf') copyFileSync(OVMF_VARS, join(opts.work, 'OVMF_VARS.fd'));
  const started = process.hrtime.bigint();
  const r = spawnSync('qemu-system-x86_64', qemuArgs(m, opts.work, initrd, opts.repo, out), {
    timeout: opts.timeoutMs,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const read = (f: string) => (existsSync(join(out, f)) ? readFileSync(join(out, f), 'utf8') : '');
  const results = new Map<string, { stdout: string; stderr: string; status: number | null }>();
  for (const { name } of commands) {
    const status = read(`${name}.status`).trim();
    results.set(name, {
      stdout: read(`${name}.stdout`),
      stderr: read(`${name}.stderr`),
      status: status ? Number(status) : null,
    });
  }
  const serialPath = join(opts.work, 'serial.log');
  const serial = existsSync(serialPath) ? readFileSync(serialPath, 'utf8') : '';
  return {
    status: r.status,
    timedOut: r.signal === 'SIGTERM',
    serial: serial + (r.stderr ? `\n[qemu] ${r.stderr}` : ''),
    seconds,
    results,
  };
}
