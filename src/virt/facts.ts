// The facts several layers look at, read once. Each keeps its Read status so
// a denied file can be told from a missing one.
import type { Read, VirtSource } from './source.js';

/** Initial namespace inodes (include/linux/proc_ns.h): what the host's own processes see. */
export const INIT_NS = { pid: 'pid:[4026531836]', cgroup: 'cgroup:[4026531835]', user: 'user:[4026531837]' } as const;

export interface Facts {
  cpuinfo: Read;
  flags: Set<string> | null;
  osrelease: Read;
  procVersion: Read;
  selfStatus: Read;
  pidNs: Read;
  cgroupNs: Read;
  userNs: Read;
  uidMap: Read;
  /** /proc/2/comm: "kthreadd" when kernel threads are visible (no PID namespace). */
  proc2comm: Read;
  /** Kernel threads visible and the PID namespace is the initial one. */
  initialNamespaces: boolean | null;
  dmi: Record<DmiField, Read>;
  dmesg: Read;
}

/** The DMI fields the layers look at (/sys/class/dmi/id/<field>). */
export type DmiField =
  | 'product_name'
  | 'sys_vendor'
  | 'board_vendor'
  | 'bios_vendor'
  | 'bios_version'
  | 'product_version'
  | 'chassis_vendor'
  | 'chassis_asset_tag'
  | 'product_serial'
  | 'product_uuid'
  | 'board_name';

/** Each DmiField, read in this order (a literal, so the compiler checks that none is missing). */
function readDmi(src: VirtSource): Record<DmiField, Read> {
  const read = (field: DmiField): Read => src.read(`/sys/class/dmi/id/${field}`);
  return {
    product_name: read('product_name'),
    sys_vendor: read('sys_vendor'),
    board_vendor: read('board_vendor'),
    bios_vendor: read('bios_vendor'),
    bios_version: read('bios_version'),
    product_version: read('product_version'),
    chassis_vendor: read('chassis_vendor'),
    chassis_asset_tag: read('chassis_asset_tag'),
    product_serial: read('product_serial'),
    product_uuid: read('product_uuid'),
    board_name: read('board_name'),
  };
}

export function text(r: Read): string | null {
  return r.status === 'ok' ? r.value.trim() : null;
}

/** What comes before the first `sep` in `s` (all of `s` when there is none), as `s.split(sep)[0]`. */
export function before(s: string, sep: string): string {
  const at = s.indexOf(sep);
  return at < 0 ? s : s.slice(0, at);
}

export function gatherFacts(src: VirtSource): Facts {
  const cpuinfo = src.read('/proc/cpuinfo');
  const flagsLine = cpuinfo.status === 'ok' ? /^flags\s*:\s*(.*)$/m.exec(cpuinfo.value)?.[1] : undefined;
  const pidNs = src.readlink('/proc/self/ns/pid');
  const proc2comm = src.read('/proc/2/comm');
  let initialNamespaces: boolean | null = null;
  if (pidNs.status === 'ok')
    initialNamespaces =
      pidNs.value === INIT_NS.pid && (text(proc2comm) === 'kthreadd' || proc2comm.status === 'denied');
  else if (text(proc2comm) === 'kthreadd') initialNamespaces = true;
  const dmi = readDmi(src);
  return {
    cpuinfo,
    flags: flagsLine !== undefined ? new Set(flagsLine.split(/\s+/)) : cpuinfo.status === 'ok' ? new Set() : null,
    osrelease: src.read('/proc/sys/kernel/osrelease'),
    procVersion: src.read('/proc/version'),
    selfStatus: src.read('/proc/self/status'),
    pidNs,
    cgroupNs: src.readlink('/proc/self/ns/cgroup'),
    userNs: src.readlink('/proc/self/ns/user'),
    uidMap: src.read('/proc/self/uid_map'),
    proc2comm,
    initialNamespaces,
    dmi,
    dmesg: src.command('dmesg'),
  };
}

/** A field of /proc/self/status ("TracerPid", "CapBnd"). */
export function statusField(facts: Facts, field: string): string | null {
  if (facts.selfStatus.status !== 'ok') return null;
  return new RegExp(`^${field}:\\s*(.*)$`, 'm').exec(facts.selfStatus.value)?.[1]?.trim() ?? null;
}

/** Whether capability `bit` is in the bounding set (what root here could ever hold). */
export function hasBoundingCap(facts: Facts, bit: number): boolean | null {
  const hex = statusField(facts, 'CapBnd');
  if (!hex || !/^[0-9a-f]+$/i.test(hex)) return null;
  return ((BigInt(`0x${hex}`) >> BigInt(bit)) & 1n) === 1n;
}
