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
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkoutFor } from '../../lab/checkout.js';
import { debianRootSkeleton } from '../../lab/debian-root.js';
import { hasCommand } from '../../lab/tools.js';
import { assertReadsBack, keepCapture, type Verdict } from '../support/virt-capture.js';

const repo = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');
const bin = join(repo, 'bin/vpsline.js');
const isRoot = process.getuid?.() === 0;

interface Layer {
  name: string;
  /** What the layer is, as it was made: the container type vpsline must name. */
  truth: string;
  needs: string;
  /** A reason the layer cannot be made here, or nothing. */
  missing?: () => string | undefined;
  /** Where the layer sees the checkout and may write its dumps: by default the checkout and the shared dumps dir. */
  stage?: () => Place;
  /** argv that runs `argv` inside the layer, with the checkout readable and `dumps` writable there. */
  wrap: (argv: string[], place: Place) => string[];
}

interface Place {
  repo: string;
  dumps: string;
}

/**
 * A container's root without a download: an empty tree with the host's
 * os-release and alternatives, over which the host's /usr is bind-mounted
 * read-only (merged /usr: bin, lib, sbin are links into it). One per layer,
 * removed after: podman writes /run/.containerenv into the root it is given.
 */
function containerTree(owner?: string): string {
  const root = mkdtempSync(join(tmpdir(), 'vpsline-layer-root-'));
  trees.push(root);
  debianRootSkeleton(root, ['proc', 'sys', 'dev', 'tmp', 'run']);
  // A rootless container's root is the user's: its uid 0 is theirs, and may write nothing else.
  if (owner) spawnSync('chown', ['-R', `${owner}:${owner}`, root]);
  return root;
}

const trees: string[] = [];
const PATH = 'PATH=/usr/libexec:/usr/sbin:/usr/bin';

/** The open-files limit this process has: podman's default would raise it, which needs CAP_SYS_RESOURCE. */
function openFilesLimit(): string {
  const line = /^Max open files\s+(\d+)\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return line ? `${line[1]}:${line[2]}` : '1024:1024';
}

const ROOTLESS = 'vpsline-rootless';

function rootlessMissing(): string | undefined {
  if (spawnSync('id', ['-u', ROOTLESS]).status !== 0) return `no user ${ROOTLESS} (.ci/run makes one)`;
  const ranges = existsSync('/etc/subuid') ? readFileSync('/etc/subuid', 'utf8').split('\n') : [];
  if (!ranges.some((line) => line.startsWith(`${ROOTLESS}:`))) return `${ROOTLESS} has no /etc/subuid range`;
  if (!existsSync('/usr/bin/newuidmap')) return 'newuidmap is not installed (Debian: uidmap)';
  return undefined;
}

/**
 * The checkout as the rootless user can read it (lab/checkout.ts stages one when CI's 0700 mktemp dir hides
 * it); beside it in a folder of this run, the user's dumps, HOME and XDG_RUNTIME_DIR, so podman's storage and
 * pause process are this run's and go with it.
 */
function rootlessStage(): Place {
  const uid = Number(spawnSync('id', ['-u', ROOTLESS], { encoding: 'utf8' }).stdout);
  const stage = mkdtempSync(join(tmpdir(), 'vpsline-rootless-'));
  trees.push(stage);
  rootlessRuns.push(join(stage, 'run'));
  chmodSync(stage, 0o755);
  for (const d of ['dumps', 'home', 'run']) mkdirSync(join(stage, d), { mode: 0o700 });
  spawnSync('chown', ['-R', `${ROOTLESS}:${ROOTLESS}`, join(stage, 'dumps'), join(stage, 'home'), join(stage, 'run')]);
  return { repo: checkoutFor(uid), dumps: join(stage, 'dumps') };
}

/** Rootless podman leaves a pause process holding its namespaces; the test ends it. */
function endPauseProcesses(): void {
  for (const run of rootlessRuns) {
    try {
      process.kill(Number(readFileSync(join(run, 'libpod/tmp/pause.pid'), 'utf8')), 'SIGKILL');
    } catch {
      // no pause process was left
    }
  }
}
const rootlessRuns: string[] = [];

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
    wrap: (argv, { repo, dumps }) => [
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
    wrap: (argv, { repo, dumps }) => [
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
    wrap: (argv, { repo, dumps }) => [
      ...['podman', '--runtime', 'runc', '--cgroup-manager', 'cgroupfs', 'run', '--rm', '--network', 'none'],
      ...['--ulimit', `nofile=${openFilesLimit()}`, '--ulimit', 'nproc=32768:32768', '--env', PATH],
      ...['-v', '/usr:/usr:ro', '-v', `${repo}:${repo}:ro`, '-v', `${dumps}:${dumps}`, '--rootfs', containerTree()],
      ...argv,
    ],
  },
  {
    // As an unprivileged user with a /etc/subuid range (.ci/run makes it): uid 0 inside is that user outside.
    name: 'podman (rootless)',
    truth: 'podman',
    needs: 'podman',
    missing: rootlessMissing,
    stage: rootlessStage,
    wrap: (argv, { repo, dumps }) => {
      const stage = join(dumps, '..');
      return [
        ...['runuser', '-u', ROOTLESS, '--', 'env', `HOME=${stage}/home`, `XDG_RUNTIME_DIR=${stage}/run`],
        ...['podman', '--runtime', 'runc', '--cgroup-manager', 'cgroupfs', 'run', '--rm', '--network', 'none'],
        ...['--env', PATH, '-v', '/usr:/usr:ro', '-v', `${repo}:${repo}:ro`, '-v', `${dumps}:${dumps}`],
        ...['--rootfs', containerTree(ROOTLESS), ...argv],
      ];
    },
  },
  {
    name: 'LXC (lxc-execute)',
    truth: 'lxc',
    needs: 'lxc-execute',
    wrap: (argv, { repo, dumps }) => {
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
  const r = spawnSync(file, args, { encoding: 'utf8', timeout: 120_000, cwd: '/' });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** What a tool prints in the layer, one line, or why not. */
function tool(layer: Layer, place: Place, argv: string[]): string {
  if (!hasCommand(argv[0] ?? '')) return 'not installed';
  const r = run(layer.wrap(['env', PATH, ...argv], place));
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
    endPauseProcesses();
    for (const t of trees) rmSync(t, { recursive: true, force: true });
  });

  for (const layer of LAYERS) {
    test(`${layer.name}: container ${layer.truth}, the VM underneath as outside`, {
      skip: hasCommand(layer.needs) ? (layer.missing?.() ?? false) : `${layer.needs} is not installed`,
    }, () => {
      const place = layer.stage?.() ?? { repo, dumps };
      const dump = join(place.dumps, layer.name.replace(/\W+/g, '-'));
      const here = join(place.repo, 'bin/vpsline.js');
      const r = run(layer.wrap([process.execPath, here, 'virt', '--json', '--steal', '0', '--dump', dump], place));
      assert.equal(r.status, 0, `${layer.name}: ${r.stderr}`);
      const inside = JSON.parse(r.stdout) as Verdict;
      const sdv = tool(layer, place, ['systemd-detect-virt']);
      const vw = tool(layer, place, ['virt-what']);
      table.push(
        `| ${layer.name} | ${layer.truth} | ${inside.container.type} (${inside.container.confidence}), ` +
          `VM ${inside.vm.type} on ${inside.vm.hypervisor} | ${sdv} | ${vw} |`,
      );
      assert.equal(inside.container.type, layer.truth, `${layer.name}: ${JSON.stringify(inside.container)}`);
      // The hypervisor is the machine's; which VMM can read finer (podman masks /sys/firmware, so
      // Firecracker's ACPI tables are not there, and it reads as plain KVM).
      assert.equal(inside.vm.hypervisor, outside.vm.hypervisor, 'the VM layer is the machine the container runs on');
      assertReadsBack(dump, inside);
      keepCapture(layer.name, dump, () => ({
        ...{ container: layer.truth, hypervisor: outside.vm.hypervisor },
        made: layer.wrap(['…'], place),
      }));
    });
  }
});
