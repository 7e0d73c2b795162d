// `vpsline virt` inside real containers made here, against the truth of how
// each was made, with systemd-detect-virt and virt-what run in the same place
// for the record (their answers are printed, not asserted: they are the
// comparison, not the truth). The VM layer underneath is this machine's, so
// inside every container it must read as it does outside. Each layer also
// gets `--dump`, read back with `--root` outside: the same verdict. With
// VPSLINE_CAPTURE_DIR set, the dumps are kept there (how test/virt/captures/
// was made: see its README).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hasCommand } from '../../lab/tools.js';

const repo = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');
const bin = join(repo, 'bin/vpsline.js');
const isRoot = process.getuid?.() === 0;

interface Verdict {
  container: { type: string | null; confidence: string };
  vm: { type: string | null; hypervisor: string | null };
  systemdTerms: { virt: string };
}

interface Layer {
  name: string;
  /** What the layer is, as it was made: the container type vpsline must name. */
  truth: string;
  needs: string;
  /** argv that runs `argv` inside the layer, with `dumps` writable there. */
  wrap: (argv: string[], dumps: string) => string[];
}

/**
 * A container's root without a download: an empty tree with the host's
 * os-release and alternatives, over which the host's /usr is bind-mounted
 * read-only (merged /usr: bin, lib, sbin are links into it). One per layer,
 * removed after: podman writes /run/.containerenv into the root it is given.
 */
function containerTree(): string {
  const root = mkdtempSync(join(tmpdir(), 'vpsline-layer-root-'));
  trees.push(root);
  for (const d of ['usr', 'etc', 'proc', 'sys', 'dev', 'tmp', 'run']) mkdirSync(join(root, d));
  copyFileSync('/etc/os-release', join(root, 'etc/os-release'));
  // virt-what finds its helper with `which`, an alternatives link on Debian.
  cpSync('/etc/alternatives', join(root, 'etc/alternatives'), { recursive: true, verbatimSymlinks: true });
  for (const d of ['bin', 'lib', 'lib64', 'sbin']) symlinkSync(`usr/${d}`, join(root, d));
  return root;
}

const trees: string[] = [];
const PATH = 'PATH=/usr/libexec:/usr/sbin:/usr/bin';

/** The open-files limit this process has: podman's default would raise it, which needs CAP_SYS_RESOURCE. */
function openFilesLimit(): string {
  const line = /^Max open files\s+(\d+)\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return line ? `${line[1]}:${line[2]}` : '1024:1024';
}

const LAYERS: Layer[] = [
  {
    name: 'unshare --pid',
    truth: 'container-other',
    needs: 'unshare',
    wrap: (argv) => ['unshare', '--pid', '--fork', '--mount-proc', ...argv],
  },
  {
    name: 'unshare, every namespace',
    truth: 'container-other',
    needs: 'unshare',
    wrap: (argv) => [
      ...['unshare', '--pid', '--uts', '--ipc', '--net', '--mount', '--cgroup', '--fork', '--mount-proc'],
      ...argv,
    ],
  },
  {
    name: 'bubblewrap --unshare-all',
    truth: 'container-other',
    needs: 'bwrap',
    wrap: (argv, dumps) => [
      ...['bwrap', '--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp'],
      // A checkout under /tmp (CI's) would be hidden by the tmpfs: bind it back over it.
      ...['--ro-bind', repo, repo, '--bind', dumps, dumps, '--unshare-all', '--die-with-parent'],
      ...argv,
    ],
  },
  {
    name: 'systemd-nspawn',
    truth: 'systemd-nspawn',
    needs: 'systemd-nspawn',
    wrap: (argv, dumps) => [
      ...['systemd-nspawn', '-q', '-D', containerTree(), '--register=no', '--keep-unit', '--as-pid2'],
      ...['--console=pipe', '--bind-ro=/usr', `--bind-ro=${repo}`, `--bind=${dumps}`, `--setenv=${PATH}`],
      ...argv,
    ],
  },
  {
    // runc and cgroupfs: crun refuses this machine's hybrid cgroup layout. RLIMIT_NPROC 32768: podman's
    // default, and anything above 32768, fail with EPERM here (the runtime may not raise it).
    name: 'podman (rootful)',
    truth: 'podman',
    needs: 'podman',
    wrap: (argv, dumps) => [
      ...['podman', '--runtime', 'runc', '--cgroup-manager', 'cgroupfs', 'run', '--rm', '--network', 'none'],
      ...['--ulimit', `nofile=${openFilesLimit()}`, '--ulimit', 'nproc=32768:32768', '--env', PATH],
      ...['-v', '/usr:/usr:ro', '-v', `${repo}:${repo}:ro`, '-v', `${dumps}:${dumps}`, '--rootfs', containerTree()],
      ...argv,
    ],
  },
  {
    name: 'LXC (lxc-execute)',
    truth: 'lxc',
    needs: 'lxc-execute',
    wrap: (argv, dumps) => {
      const config = join(containerTree(), 'tmp', 'lxc.conf');
      const rootfs = join(config, '..', '..');
      writeFileSync(
        config,
        [
          'lxc.uts.name = vpsline-lxc',
          `lxc.rootfs.path = dir:${rootfs}`,
          'lxc.mount.auto = proc:mixed sys:ro cgroup:mixed',
          'lxc.mount.entry = /usr usr none bind,ro 0 0',
          `lxc.mount.entry = ${repo} ${repo.slice(1)} none bind,ro,create=dir 0 0`,
          `lxc.mount.entry = ${dumps} ${dumps.slice(1)} none bind,create=dir 0 0`,
          'lxc.net.0.type = empty',
          `lxc.environment = ${PATH}`,
          '',
        ].join('\n'),
      );
      return ['lxc-execute', '-n', `vpsline-${process.pid}-${trees.length}`, '-f', config, '--', ...argv];
    },
  },
];

function run(argv: string[]): { status: number | null; stdout: string; stderr: string } {
  const [file, ...args] = argv;
  assert.ok(file);
  const r = spawnSync(file, args, { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** What a tool prints in the layer, one line, or why not. */
function tool(layer: Layer, dumps: string, argv: string[]): string {
  if (!hasCommand(argv[0] ?? '')) return 'not installed';
  const r = run(layer.wrap(['env', PATH, ...argv], dumps));
  return (r.stdout.trim() || `(nothing; exit ${r.status})`).split('\n').join(', ');
}

const skip = !isRoot ? 'real containers need root (CI runs as root)' : undefined;

describe('vpsline virt inside real containers', { skip }, () => {
  let outside: Verdict;
  let dumps: string;
  const table: string[] = [];
  before(() => {
    dumps = mkdtempSync(join(tmpdir(), 'vpsline-layer-dumps-'));
    const r = run([process.execPath, bin, 'virt', '--json', '--steal', '0']);
    assert.equal(r.status, 0, r.stderr);
    outside = JSON.parse(r.stdout) as Verdict;
  });
  after(() => {
    if (table.length)
      console.log(
        ['| layer | truth | vpsline | systemd-detect-virt | virt-what |', '|---|---|---|---|---|', ...table].join('\n'),
      );
    rmSync(dumps, { recursive: true, force: true });
    for (const t of trees) rmSync(t, { recursive: true, force: true });
  });

  for (const layer of LAYERS) {
    test(`${layer.name}: container ${layer.truth}, the VM underneath as outside`, {
      skip: hasCommand(layer.needs) ? false : `${layer.needs} is not installed`,
    }, () => {
      const dump = join(dumps, layer.name.replace(/\W+/g, '-'));
      const r = run(layer.wrap([process.execPath, bin, 'virt', '--json', '--steal', '0', '--dump', dump], dumps));
      assert.equal(r.status, 0, `${layer.name}: ${r.stderr}`);
      const inside = JSON.parse(r.stdout) as Verdict;
      const sdv = tool(layer, dumps, ['systemd-detect-virt']);
      const vw = tool(layer, dumps, ['virt-what']);
      table.push(
        `| ${layer.name} | ${layer.truth} | ${inside.container.type} (${inside.container.confidence}), ` +
          `VM ${inside.vm.type} on ${inside.vm.hypervisor} | ${sdv} | ${vw} |`,
      );
      assert.equal(inside.container.type, layer.truth, `${layer.name}: ${JSON.stringify(inside.container)}`);
      // The hypervisor is the machine's; which VMM can read finer (podman masks /sys/firmware, so
      // Firecracker's ACPI tables are not there, and it reads as plain KVM).
      assert.equal(inside.vm.hypervisor, outside.vm.hypervisor, 'the VM layer is the machine the container runs on');
      // The dump made inside reads back outside as the same machine.
      const back = run([process.execPath, bin, 'virt', '--json', '--steal', '0', '--root', dump]);
      assert.equal(back.status, 0, back.stderr);
      const replay = JSON.parse(back.stdout) as Verdict;
      assert.deepEqual(
        [replay.container.type, replay.vm.type, replay.systemdTerms],
        [inside.container.type, inside.vm.type, inside.systemdTerms],
      );
      const keep = process.env.VPSLINE_CAPTURE_DIR;
      if (keep) {
        const to = join(keep, layer.name.replace(/\W+/g, '-').replace(/-$/, '').toLowerCase());
        cpSync(dump, join(to, 'dump'), { recursive: true });
        const truth = { container: layer.truth, hypervisor: outside.vm.hypervisor, made: layer.wrap(['…'], dumps) };
        writeFileSync(join(to, 'truth.json'), `${JSON.stringify(truth, null, 2)}\n`);
      }
    });
  }
});
