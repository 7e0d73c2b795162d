// The container layer: is this a shared-kernel environment, and which one?
// Rules are tried in order, the most specific evidence first; marker
// files, environment values and cgroup paths are not trusted on their own
// when the machine's namespaces are the initial ones and kernel threads are
// visible (a /.dockerenv can ship inside a disk image).
import { before, INIT_NS, statusField, text, type Facts } from './facts.js';
import type { VirtSource } from './source.js';
import type { Confidence, ContainerLayer, Evidence } from './types.js';

const NAMES: Record<string, string> = {
  openvz: 'OpenVZ / Virtuozzo',
  lxc: 'LXC',
  'lxc-libvirt': 'LXC (libvirt)',
  'systemd-nspawn': 'systemd-nspawn',
  docker: 'Docker',
  podman: 'Podman',
  rkt: 'rkt',
  wsl: 'WSL',
  gvisor: 'gVisor',
  proot: 'proot',
  pouch: 'Pouch',
  'container-other': 'an unnamed container',
};

/** $container values systemd knows (anything else is container-other). */
const CONTAINER_VALUES = new Set([
  'lxc',
  'lxc-libvirt',
  'systemd-nspawn',
  'docker',
  'podman',
  'rkt',
  'wsl',
  'proot',
  'pouch',
]);

interface Claim {
  type: string;
  name?: string;
  /** Marker-kind claims are overruled by initial namespaces. */
  marker: boolean;
  evidence: Evidence;
}

function ev(
  source: string,
  value: string,
  means: string,
  weight: Evidence['weight'] = 'strong',
  note?: string,
): Evidence {
  return { layer: 'container', source, value: value.slice(0, 120), means, weight, ...(note ? { note } : {}) };
}

/** cgroup paths that name a container manager. */
function cgroupClaim(path: string, content: string): Claim | undefined {
  const rules: [RegExp, string][] = [
    [/\/docker[/-][0-9a-f]{12,}/, 'docker'],
    [/\/libpod-[0-9a-f]{12,}|\/libpod_parent\//, 'podman'],
    [/\/lxc\.payload[./]|\/lxc\/[^/\s]+/, 'lxc'],
    [/machine-rkt/, 'rkt'],
    [/\/kubepods[/.]/, 'container-other'],
  ];
  for (const line of content.split('\n')) {
    for (const [re, type] of rules) {
      // Kernel state, not a file that could be copied: never overruled as a marker.
      if (re.test(line))
        return {
          type,
          marker: false,
          evidence: ev(path, line, type, 'supporting', type === 'container-other' ? 'a Kubernetes pod' : undefined),
          ...(type === 'container-other' ? { name: 'a Kubernetes pod' } : {}),
        };
    }
  }
  return undefined;
}

/**
 * Docker bind-mounts /etc/hostname, /etc/hosts and /etc/resolv.conf into
 * every container from its own containers/<64-hex id>/ folder, and offers no
 * way to turn that off (moby/moby#41229): a mountinfo line whose root is such
 * a file is Docker's own doing, kernel state rather than a file in the image.
 * Fields: id, parent, major:minor, root, mount point (proc(5)).
 */
const DOCKER_MOUNT = /^\S+ \S+ \S+ (\S*\/containers\/[0-9a-f]{64}\/(?:hostname|hosts|resolv\.conf)) (\/etc\/\S+) /;

/** The /proc files lxcfs overlays with per-container values. */
const LXCFS_FILES = ['cpuinfo', 'meminfo', 'stat', 'uptime', 'swaps', 'diskstats', 'loadavg'];

export function detectContainer(src: VirtSource, facts: Facts): ContainerLayer {
  const evidence: Evidence[] = [];
  const claims: Claim[] = [];
  const denied = (source: string): void => void evidence.push(ev(source, 'permission denied', 'unknown', 'denied'));

  // 1. OpenVZ: /proc/vz without /proc/bc (the hardware node has both).
  const vz = src.list('/proc/vz');
  if (vz.status === 'ok' && src.list('/proc/bc').status === 'missing' && src.read('/proc/bc').status === 'missing')
    claims.push({ type: 'openvz', marker: false, evidence: ev('/proc/vz', 'exists, /proc/bc does not', 'openvz') });
  // Present only under OpenVZ; root-only, so "denied" still means it exists.
  const ubc = src.read('/proc/user_beancounters');
  if (ubc.status !== 'missing')
    claims.push({
      type: 'openvz',
      marker: false,
      evidence: ev(
        '/proc/user_beancounters',
        ubc.status === 'ok' ? 'exists' : 'exists (root-only)',
        'openvz',
        'supporting',
      ),
    });

  // 2. WSL: the kernel release names Microsoft. WSL2 is a real VM (Hyper-V) below.
  const osrelease = text(facts.osrelease) ?? '';
  if (/microsoft|wsl/i.test(osrelease)) {
    const wsl2 = /microsoft-standard|WSL2/i.test(osrelease);
    claims.push({
      type: 'wsl',
      name: wsl2 ? 'WSL2' : 'WSL1',
      marker: false,
      evidence: ev('/proc/sys/kernel/osrelease', osrelease, wsl2 ? 'wsl (WSL2)' : 'wsl (WSL1)'),
    });
  }
  if (src.read('/dev/lxss').status !== 'missing' || src.list('/dev/lxss').status === 'ok')
    claims.push({
      type: 'wsl',
      name: 'WSL1',
      marker: false,
      evidence: ev('/dev/lxss', 'exists', 'wsl (WSL1)', 'supporting'),
    });

  // 3. gVisor: its fixed fake kernel version, or its boot banner.
  const version = text(facts.procVersion) ?? '';
  if (/#1 SMP Sun Jan 10 15:06:54 PST 2016/.test(version) || /gvisor/i.test(version))
    claims.push({ type: 'gvisor', marker: false, evidence: ev('/proc/version', version, 'gvisor') });
  else if (facts.dmesg.status === 'ok' && /Starting gVisor/.test(facts.dmesg.value))
    claims.push({ type: 'gvisor', marker: false, evidence: ev('command dmesg', 'Starting gVisor...', 'gvisor') });

  // 4. proot: we are being ptraced by a process called proot.
  const tracer = Number(statusField(facts, 'TracerPid') ?? 0);
  if (tracer > 0) {
    const comm = text(src.read(`/proc/${tracer}/comm`)) ?? '';
    if (comm.startsWith('proot'))
      claims.push({ type: 'proot', marker: false, evidence: ev(`/proc/${tracer}/comm`, comm, 'proot') });
  }
  const vxid = statusField(facts, 'VxID');
  if (vxid && vxid !== '0')
    claims.push({
      type: 'container-other',
      name: 'Linux-VServer',
      marker: false,
      evidence: ev('/proc/self/status', `VxID: ${vxid}`, 'vserver'),
    });

  // 5. What the container manager says: /run/host/container-manager, $container.
  const manager = src.read('/run/host/container-manager');
  if (manager.status === 'ok' && manager.value.trim()) {
    const v = manager.value.trim();
    claims.push({
      type: CONTAINER_VALUES.has(v) ? v : 'container-other',
      marker: true,
      evidence: ev('/run/host/container-manager', v, v),
    });
  }
  const runContainer = src.read('/run/systemd/container');
  if (runContainer.status === 'ok' && runContainer.value.trim()) {
    const v = runContainer.value.trim();
    if (v !== 'oci')
      claims.push({
        type: CONTAINER_VALUES.has(v) ? v : 'container-other',
        marker: true,
        evidence: ev('/run/systemd/container', v, v),
      });
  } else if (runContainer.status === 'denied') denied('/run/systemd/container');
  const environ = src.read('/proc/1/environ');
  if (environ.status === 'ok') {
    const v = environ.value
      .split('\0')
      .find((e) => e.startsWith('container='))
      ?.slice('container='.length);
    if (v && v !== 'oci')
      claims.push({
        type: CONTAINER_VALUES.has(v) ? v : 'container-other',
        marker: true,
        evidence: ev('/proc/1/environ', `container=${v}`, v),
      });
  } else if (environ.status === 'denied') denied('/proc/1/environ');

  // 6. Podman's marker, then LXC's signs.
  if (src.read('/run/.containerenv').status !== 'missing')
    claims.push({ type: 'podman', marker: true, evidence: ev('/run/.containerenv', 'exists', 'podman') });
  const mountinfo = src.read('/proc/self/mountinfo');
  const lxcfs =
    mountinfo.status === 'ok'
      ? mountinfo.value
          .split('\n')
          .find((l) => LXCFS_FILES.some((f) => l.includes(` /proc/${f} `)) && l.includes(' - fuse.lxcfs '))
      : undefined;
  if (lxcfs)
    claims.push({
      type: 'lxc',
      name: 'LXC (lxcfs)',
      marker: true,
      evidence: ev('/proc/self/mountinfo', 'fuse.lxcfs mounted over /proc files', 'lxc'),
    });
  if (src.read('/dev/.lxc-boot-id').status !== 'missing')
    claims.push({ type: 'lxc', marker: true, evidence: ev('/dev/.lxc-boot-id', 'exists', 'lxc', 'supporting') });
  if (src.read('/dev/lxd/sock').status !== 'missing' || src.list('/dev/lxd').status === 'ok')
    claims.push({
      type: 'lxc',
      name: 'LXD container',
      marker: true,
      evidence: ev('/dev/lxd/sock', 'exists', 'lxc (LXD)', 'supporting'),
    });

  // 7. cgroup paths, ours and PID 1's.
  for (const path of ['/proc/self/cgroup', '/proc/1/cgroup']) {
    const r = src.read(path);
    if (r.status === 'ok') {
      const c = cgroupClaim(path, r.value);
      if (c) {
        claims.push(c);
        break;
      }
    }
  }

  // 8. Docker's mounts, then its marker file, checked last (it can ship inside an image, or be left
  // on a machine; a process in a namespace of its own, e.g. under unshare or bubblewrap, still sees it).
  const dockerMount =
    mountinfo.status === 'ok'
      ? mountinfo.value
          .split('\n')
          .map((l) => DOCKER_MOUNT.exec(l))
          .find((m) => m !== null)
      : undefined;
  if (dockerMount)
    claims.push({
      type: 'docker',
      marker: false,
      evidence: ev('/proc/self/mountinfo', `${dockerMount[2]} from ${dockerMount[1]}`, 'docker'),
    });
  for (const f of ['/.dockerenv', '/.dockerinit']) {
    if (src.read(f).status === 'missing') continue;
    const marker = ev(f, 'exists', 'docker', 'supporting');
    const corroborated = claims.some((c) => c.type === 'docker' && !c.marker);
    if (mountinfo.status === 'ok' && !corroborated)
      evidence.push({
        ...marker,
        weight: 'rejected',
        note:
          'Docker bind-mounts /etc/hostname, /etc/hosts and /etc/resolv.conf from its containers/<id>/ folder ' +
          'into every container, and no such mount is here: a file left behind, not a Docker container',
      });
    else claims.push({ type: 'docker', marker: true, evidence: marker });
    break;
  }

  // 9. Namespaces: the fallback for containers that carry no name.
  const nsClaims: Claim[] = [];
  if (facts.pidNs.status === 'ok' && facts.pidNs.value !== INIT_NS.pid)
    nsClaims.push({
      type: 'container-other',
      marker: false,
      evidence: ev(
        '/proc/self/ns/pid',
        facts.pidNs.value,
        'a PID namespace',
        'supporting',
        `not the initial ${INIT_NS.pid}`,
      ),
    });
  else if (facts.pidNs.status === 'ok')
    evidence.push(ev('/proc/self/ns/pid', facts.pidNs.value, 'none', 'strong', 'the initial PID namespace'));
  else if (facts.pidNs.status === 'denied') denied('/proc/self/ns/pid');
  if (text(facts.proc2comm) === 'kthreadd')
    evidence.push(ev('/proc/2/comm', 'kthreadd', 'none', 'strong', 'kernel threads are visible'));
  if (facts.cgroupNs.status === 'ok' && facts.cgroupNs.value !== INIT_NS.cgroup)
    nsClaims.push({
      type: 'container-other',
      marker: false,
      evidence: ev('/proc/self/ns/cgroup', facts.cgroupNs.value, 'a cgroup namespace', 'supporting'),
    });
  const uidMap = text(facts.uidMap);
  if (uidMap && !/^0\s+0\s+4294967295$/.test(uidMap))
    nsClaims.push({
      type: 'container-other',
      marker: false,
      evidence: ev('/proc/self/uid_map', before(uidMap, '\n'), 'a user namespace', 'supporting'),
    });

  // Decide: the first claim in rule order that is not contradicted.
  const contradicted =
    facts.initialNamespaces === true && (facts.cgroupNs.status !== 'ok' || facts.cgroupNs.value === INIT_NS.cgroup);
  let chosen: Claim | undefined;
  for (const c of claims) {
    if (c.marker && contradicted) {
      evidence.push({
        ...c.evidence,
        weight: 'rejected',
        note:
          'namespaces are the initial ones and kernel threads are visible: ' +
          'an artifact (e.g. copied with a disk image), not a container',
      });
      continue;
    }
    if (!chosen) chosen = c;
    // Later claims that agree support it; others are kept as evidence too.
    evidence.push(c === chosen || c.type === chosen.type ? c.evidence : { ...c.evidence, weight: 'supporting' });
  }
  if (!chosen && nsClaims.length) chosen = nsClaims[0];
  for (const c of nsClaims) evidence.push(c.evidence);

  if (chosen) {
    // Score: a strong sign 2, a supporting one 1, being in a namespace of one's own 1. high >= 3, medium 2.
    const agreeing = claims.filter((c) => c.type === chosen.type && !(c.marker && contradicted));
    const namespaced = nsClaims.length > 0 || facts.initialNamespaces === false;
    const score =
      agreeing.reduce((n, c) => n + (c.evidence.weight === 'strong' ? 2 : 1), 0) +
      (namespaced && chosen.type !== 'container-other' ? 1 : 0) +
      (chosen.type === 'container-other' ? nsClaims.length : 0);
    const confidence: Confidence = score >= 3 ? 'high' : score === 2 ? 'medium' : 'low';
    return {
      type: chosen.type,
      status: 'found',
      confidence,
      name: chosen.name ?? NAMES[chosen.type] ?? chosen.type,
      evidence,
    };
  }
  // None. How sure depends on whether the namespace evidence could be read.
  if (contradicted) return { type: null, status: 'none', confidence: 'high', name: null, evidence };
  if (facts.pidNs.status === 'denied' && facts.proc2comm.status !== 'ok')
    return { type: null, status: 'unknown', confidence: 'unknown', name: null, evidence };
  return {
    type: null,
    status: 'none',
    confidence: facts.pidNs.status === 'ok' ? 'medium' : 'low',
    name: null,
    evidence,
  };
}
