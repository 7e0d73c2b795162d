// The shape of a virtualization report. Type names follow systemd-detect-virt
// where it has one (kvm, xen, openvz, lxc, docker, oracle = VirtualBox ...);
// gvisor and firecracker/cloud-hypervisor are ours, since systemd has none.
import type { Reason } from './reasons.js';

export type Layer = 'container' | 'vm' | 'provider';

/**
 * high: two independent kinds of evidence agree; medium: one strong signal; low: hints only;
 * unknown: the deciding evidence could not be read.
 */
export type Confidence = 'high' | 'medium' | 'low' | 'unknown';

export interface Evidence {
  layer: Layer;
  /** Where it was read: a path, "cpuid 0x40000000", "command lscpu". */
  source: string;
  /** What was read there (shortened). */
  value: string;
  /** What it points to ("docker", "kvm", "none", "aws"). */
  means: string;
  /**
   * strong / supporting: used for the answer; rejected: overruled by stronger
   * evidence (the reason is in `note`); denied: could not be read, so unknown.
   */
  weight: 'strong' | 'supporting' | 'rejected' | 'denied';
  note?: string;
}

export type Status = 'found' | 'none' | 'unknown';

export interface ContainerLayer {
  /**
   * openvz, lxc, lxc-libvirt, systemd-nspawn, docker, podman, rkt, wsl, gvisor, proot, pouch,
   * container-other, or null.
   */
  type: string | null;
  status: Status;
  confidence: Confidence;
  /** A human name ("LXC (lxcfs)", "Docker", "WSL2"). */
  name: string | null;
  evidence: Evidence[];
}

export interface VmLayer {
  /**
   * kvm, qemu, xen, vmware, microsoft, oracle, parallels, bhyve, firecracker, cloud-hypervisor, uml, zvm,
   * acrn, apple, bochs, vm-other ... or null (bare metal).
   */
  type: string | null;
  status: Status;
  confidence: Confidence;
  name: string | null;
  /** The hypervisor underneath the VMM: "kvm" for firecracker, cloud-hypervisor, AWS Nitro. */
  hypervisor: string | null;
  /** Xen only: guest mode and whether this is the control domain. */
  xen?: { mode: 'pv' | 'hvm' | 'pvh' | null; dom0: boolean };
  /** The DMI says VM but the CPU's hypervisor bit is hidden. */
  hiddenHypervisorBit?: boolean;
  evidence: Evidence[];
}

export interface ProviderLayer {
  /** aws, gce, azure, alibaba, tencent, oracle-cloud, huawei, digitalocean, vultr, hetzner, linode, ... or null. */
  id: string | null;
  name: string | null;
  /** Cloud bare metal (EC2 *.metal): no hypervisor between you and the machine. */
  bareMetal: boolean;
  evidence: Evidence[];
}

export type Tristate = boolean | null;

export interface Capability<T = Tristate> {
  value: T;
  /** Why, in one line of English. */
  why: string;
  /** The same as codes and parameters (how the Chinese text is made). */
  reasons: Reason[];
}

export interface BeancounterFailure {
  resource: string;
  held: number;
  maxheld: number;
  barrier: number;
  limit: number;
  failcnt: number;
}

export interface Capabilities {
  kernelModules: Capability;
  bbr: Capability & { available: Tristate; inUse: Tristate; current: string | null; qdisc: string | null };
  tun: Capability;
  nestedVirtualization: Capability & { cpuFlag: Tristate; devKvm: Tristate };
  swap: Capability & { totalKiB: number | null; canAdd: Tristate };
  cpuSteal: Capability<number | null> & { sinceBootPercent: number | null; sampleMs: number | null };
  memoryBalloon: Capability & { driver: string | null };
  beancounters: Capability & { failures: BeancounterFailure[] | null };
}

export interface VirtReport {
  container: ContainerLayer;
  vm: VmLayer;
  provider: ProviderLayer;
  /** Every piece of evidence, all layers. */
  evidence: Evidence[];
  capabilities: Capabilities;
  /**
   * vpsline's own verdict in systemd-detect-virt's ids (innermost layer, and
   * the VM and container layers). Not what systemd-detect-virt prints: it
   * trusts marker files vpsline rejects, and a dump records what it printed.
   */
  systemdTerms: { virt: string; vm: string; container: string };
  notes: string[];
  noteReasons: Reason[];
}
