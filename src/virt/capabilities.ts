// What the machine lets its owner do, checked directly instead of guessed from
// the virtualization type (virt-detect.md §9): kernel modules, BBR, TUN,
// nested virtualization, swap, CPU steal, memory ballooning, OpenVZ
// beancounter failures. Anything unreadable is null ("unknown"), never false.
import { hasBoundingCap, text, type Facts } from './facts.js';
import { say, type Reason, type ReasonCode, type ReasonParams } from './reasons.js';
import type { VirtSource } from './source.js';
import type { BeancounterFailure, Capabilities, ContainerLayer } from './types.js';

const CAP_SYS_MODULE = 16;
const CAP_SYS_ADMIN = 21;

export interface CapabilityOptions {
  /** How long to watch /proc/stat for steal time (ms); 0 = since boot only. */
  stealSampleMs?: number;
}

/** A reason as a check gives it: the code, and its parameters when it has any. */
type ReasonArg = [ReasonCode, ReasonParams?];

/** A capability's value with its reasons; `why` is their English text. */
function cap<T>(value: T, ...reasons: ReasonArg[]): { value: T; why: string; reasons: Reason[] } {
  const list = reasons.map(([code, params]) => ({ code, params: params ?? {} }));
  return { value, why: list.map((r) => say(r.code, r.params)).join(''), reasons: list };
}

function kernelVersion(release: string | null): [number, number] | null {
  const m = release ? /^(\d+)\.(\d+)/.exec(release) : null;
  return m ? [Number(m[1]), Number(m[2])] : null;
}

/** The aggregate "cpu" line of /proc/stat: [total, steal]. */
function cpuTimes(stat: string): { total: number; steal: number } | null {
  const line = /^cpu\s+(.*)$/m.exec(stat)?.[1];
  if (line === undefined) return null;
  const v = line.trim().split(/\s+/).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user).
  const fields = v.slice(0, 8);
  const steal = fields[7];
  if (steal === undefined || fields.some((n) => !Number.isFinite(n))) return null;
  return { total: fields.reduce((a, b) => a + b, 0), steal };
}

type Row6 = [string, string, string, string, string, string];

/** A beancounters row: resource held maxheld barrier limit failcnt. */
function isRow6(cols: string[]): cols is Row6 {
  return cols.length === 6;
}

export function parseBeancounters(textValue: string): BeancounterFailure[] {
  const failures: BeancounterFailure[] = [];
  for (const line of textValue.split('\n')) {
    // "  101:  kmemsize   2563480  4599808  9223372036854775807  9223372036854775807  0"
    // (the first row carries the uid).
    const cols = line
      .replace(/^\s*\d+:/, '')
      .trim()
      .split(/\s+/);
    if (!isRow6(cols)) continue;
    const [resource, held, maxheld, barrier, limit, failcnt] = cols;
    if (!/^[a-z]/.test(resource) || resource === 'uid' || !/^\d+$/.test(failcnt)) continue;
    if (Number(failcnt) > 0)
      failures.push({
        resource,
        held: Number(held),
        maxheld: Number(maxheld),
        barrier: Number(barrier),
        limit: Number(limit),
        failcnt: Number(failcnt),
      });
  }
  return failures;
}

export async function checkCapabilities(
  src: VirtSource,
  facts: Facts,
  container: ContainerLayer,
  opts: CapabilityOptions = {},
): Promise<Capabilities> {
  // WSL counts as a container (as in systemd) but WSL2 runs its own kernel in a VM,
  // and WSL1 has no Linux kernel at all.
  const wsl1 = container.type === 'wsl' && container.name === 'WSL1';
  const shared = container.status === 'found' && container.type !== 'wsl';
  const release = text(facts.osrelease);

  // Kernel modules.
  const modules = src.read('/proc/modules');
  const modulesDisabled = text(src.read('/proc/sys/kernel/modules_disabled'));
  const capModule = hasBoundingCap(facts, CAP_SYS_MODULE);
  let kernelModules: Capabilities['kernelModules'];
  if (wsl1) kernelModules = cap(false, ['modules.wsl1']);
  else if (shared) kernelModules = cap(false, ['modules.container', { name: container.name ?? 'container' }]);
  else if (modules.status === 'missing') kernelModules = cap(false, ['modules.unsupported']);
  else if (modulesDisabled === '1') kernelModules = cap(false, ['modules.disabled']);
  else if (capModule === false) kernelModules = cap(false, ['modules.nocap']);
  else if (modules.status === 'denied' || capModule === null) kernelModules = cap(null, ['modules.unknown']);
  else kernelModules = cap(true, ['modules.yes']);

  // BBR: available now, or loadable as a module; in use.
  const available = src.read('/proc/sys/net/ipv4/tcp_available_congestion_control');
  const current = text(src.read('/proc/sys/net/ipv4/tcp_congestion_control'));
  const qdisc = text(src.read('/proc/sys/net/core/default_qdisc'));
  const availableList = text(available)?.split(/\s+/) ?? null;
  let bbrAvailable: boolean | null = availableList ? availableList.includes('bbr') : null;
  let bbrReason: ReasonArg;
  if (bbrAvailable) bbrReason = ['bbr.available'];
  else if (availableList) {
    const builtin = release ? text(src.read(`/lib/modules/${release}/modules.builtin`)) : null;
    const ko = release ? src.list(`/lib/modules/${release}/kernel/net/ipv4`) : { status: 'missing' as const };
    const hasModule =
      (builtin && /tcp_bbr\.ko/.test(builtin)) ||
      (ko.status === 'ok' && ko.value.some((f) => f.startsWith('tcp_bbr.ko')));
    if (hasModule && kernelModules.value) {
      bbrAvailable = true;
      bbrReason = ['bbr.module'];
    } else {
      const v = kernelVersion(release);
      bbrReason =
        release && v && (v[0] < 4 || (v[0] === 4 && v[1] < 9))
          ? ['bbr.oldkernel', { release }]
          : shared
            ? ['bbr.hostonly']
            : ['bbr.missing'];
    }
  } else bbrReason = available.status === 'denied' ? ['bbr.unknown'] : ['bbr.hidden'];
  const bbrInUse = current === null ? null : current === 'bbr';
  const inUseReason: ReasonArg[] = bbrInUse ? [['bbr.inuse']] : current ? [['bbr.current', { current }]] : [];
  const bbr: Capabilities['bbr'] = {
    ...cap(bbrAvailable, bbrReason, ...inUseReason),
    available: bbrAvailable,
    inUse: bbrInUse,
    current,
    qdisc,
  };

  // TUN/TAP.
  const tunOpen = src.openDevice('/dev/net/tun');
  const tun: Capabilities['tun'] =
    tunOpen.status === 'ok'
      ? tunOpen.value
        ? cap(true, ['tun.yes'])
        : cap(false, ['tun.nodriver'])
      : tunOpen.status === 'denied'
        ? cap(null, ['tun.denied'])
        : cap(false, [shared ? 'tun.container' : 'tun.missing']);

  // Nested virtualization: the CPU flag, /dev/kvm, the kvm module's nested switch.
  const cpuFlag = facts.flags ? facts.flags.has('vmx') || facts.flags.has('svm') : null;
  const kvmDev = src.openDevice('/dev/kvm');
  const devKvm = kvmDev.status === 'ok' ? kvmDev.value : kvmDev.status === 'denied';
  const nestedParam =
    text(src.read('/sys/module/kvm_intel/parameters/nested')) ??
    text(src.read('/sys/module/kvm_amd/parameters/nested'));
  const nestedValue: boolean | null = devKvm ? true : cpuFlag === null ? null : !!(cpuFlag && !shared);
  const extra = devKvm && cpuFlag === false ? 'pv' : cpuFlag && !devKvm && !shared ? 'load' : '';
  const nestedVirtualization: Capabilities['nestedVirtualization'] = {
    ...cap(nestedValue, [
      'nested.status',
      {
        flag: cpuFlag === null ? 'unknown' : cpuFlag ? 'yes' : 'no',
        kvm: devKvm ? 'yes' : 'no',
        nested: nestedParam ?? '',
        extra,
      },
    ]),
    cpuFlag,
    devKvm,
  };

  // Swap.
  const meminfo = text(src.read('/proc/meminfo'));
  const swapTotal = meminfo ? Number(/^SwapTotal:\s*(\d+)/m.exec(meminfo)?.[1] ?? NaN) : NaN;
  const capAdmin = hasBoundingCap(facts, CAP_SYS_ADMIN);
  const canAdd = shared ? false : capAdmin;
  const swapKiB = Number.isFinite(swapTotal) ? swapTotal : null;
  const ovz = container.type === 'openvz';
  const swap: Capabilities['swap'] = {
    ...(swapKiB === null
      ? cap(null, ['swap.unknown'])
      : cap(swapKiB > 0, [
          'swap.status',
          {
            mib: Math.round(swapKiB / 1024),
            vswap: ovz && swapKiB > 0 ? 1 : '',
            add: canAdd === null ? 'unknown' : canAdd ? 'yes' : 'no',
          },
        ])),
    totalKiB: swapKiB,
    canAdd,
  };

  // CPU steal: since boot, and over a short sample when asked.
  const stat1 = src.read('/proc/stat');
  const t1 = stat1.status === 'ok' ? cpuTimes(stat1.value) : null;
  const sinceBoot = t1 && t1.total > 0 ? (100 * t1.steal) / t1.total : null;
  let sampled: number | null = null;
  let sampleMs: number | null = null;
  const wanted = opts.stealSampleMs ?? 0;
  if (t1 && wanted > 0) {
    const stat2 = await src.statLater(wanted);
    const t2 = stat2.status === 'ok' ? cpuTimes(stat2.value) : null;
    if (t2 && t2.total > t1.total) {
      sampled = (100 * (t2.steal - t1.steal)) / (t2.total - t1.total);
      sampleMs = wanted;
    }
  }
  const steal = sampled ?? sinceBoot;
  const rounded = steal === null ? null : Math.round(steal * 100) / 100;
  const cpuSteal: Capabilities['cpuSteal'] = {
    ...(steal === null
      ? cap(null, ['steal.unknown'])
      : cap(rounded, [
          'steal.status',
          { percent: steal.toFixed(2), ms: sampled !== null ? wanted : '', busy: steal >= 5 ? 1 : '' },
        ])),
    sinceBootPercent: sinceBoot === null ? null : Math.round(sinceBoot * 100) / 100,
    sampleMs,
  };

  // Memory ballooning: virtio device id 5, Hyper-V's or Xen's balloon.
  let driver: string | null = null;
  const virtio = src.list('/sys/bus/virtio/devices');
  if (
    virtio.status === 'ok' &&
    virtio.value.some((d) => text(src.read(`/sys/bus/virtio/devices/${d}/device`)) === '0x0005')
  )
    driver = 'virtio_balloon';
  else if (src.list('/sys/bus/vmbus/drivers/hv_balloon').status === 'ok') driver = 'hv_balloon';
  else if (src.list('/sys/devices/system/xen_memory').status === 'ok') driver = 'xen balloon';
  const memoryBalloon: Capabilities['memoryBalloon'] = {
    ...(driver ? cap(true, ['balloon.yes', { driver }]) : cap(false, ['balloon.no'])),
    driver,
  };

  // OpenVZ beancounters: failcnt > 0 means the container was refused memory or resources.
  const ubc = src.read('/proc/user_beancounters');
  let beancounters: Capabilities['beancounters'];
  if (ubc.status === 'missing') beancounters = { ...cap(null, ['ubc.none']), failures: null };
  else if (ubc.status === 'denied') beancounters = { ...cap(null, ['ubc.denied']), failures: null };
  else {
    const failures = parseBeancounters(ubc.value);
    beancounters = {
      ...(failures.length
        ? cap(true, ['ubc.failures', { list: failures.map((f) => `${f.resource} ${f.failcnt}`).join(', ') }])
        : cap(false, ['ubc.clean'])),
      failures,
    };
  }

  return { kernelModules, bbr, tun, nestedVirtualization, swap, cpuSteal, memoryBalloon, beancounters };
}
