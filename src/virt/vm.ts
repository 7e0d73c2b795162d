// The VM layer: which hypervisor runs this kernel, if any. Evidence comes in
// independent kinds (CPUID, DMI, ACPI, Xen sysfs, the kernel log, hints like
// the clock source and PCI ids); the answer follows systemd's order with the
// these fixes: a known signature in a
// higher CPUID leaf beats "Microsoft Hv", DMI wins for VirtualBox, Xen and
// Parallels, Firecracker is told from its ACPI tables, UML comes first.
import { before, text, type Facts } from './facts.js';
import type { VirtSource } from './source.js';
import type { Confidence, Evidence, VmLayer } from './types.js';

/** CPUID hypervisor vendor signatures (leaf 0x40000000 + n*0x100, EBX-ECX-EDX). */
const CPUID_VENDORS: [string, string][] = [
  ['KVMKVMKVM', 'kvm'],
  ['Linux KVM Hv', 'kvm'],
  ['LKVMLKVMLKVM', 'kvm'],
  ['TCGTCGTCGTCG', 'qemu'],
  ['XenVMMXenVMM', 'xen'],
  ['VMwareVMware', 'vmware'],
  ['Microsoft Hv', 'microsoft'],
  ['bhyve bhyve ', 'bhyve'],
  ['ACRNACRNACRN', 'acrn'],
  ['QNXQVMBSQG', 'qnx'],
  ['SRESRESRESRE', 'sre'],
  ['Apple VZ', 'apple'],
  ['VBoxVBoxVBox', 'oracle'],
  [' lrpepyh  vr', 'parallels'],
];

/** DMI prefixes, in systemd's field order (product_name, sys_vendor, board_vendor, bios_vendor, product_version). */
const DMI_VENDORS: [string, string][] = [
  ['KVM', 'kvm'],
  ['OpenStack', 'kvm'],
  ['KubeVirt', 'kvm'],
  ['Amazon EC2', 'amazon'],
  ['QEMU', 'qemu'],
  ['VMware', 'vmware'],
  ['VMW', 'vmware'],
  ['innotek GmbH', 'oracle'],
  ['VirtualBox', 'oracle'],
  ['Oracle Corporation', 'oracle'],
  ['Xen', 'xen'],
  ['Bochs', 'bochs'],
  ['Parallels', 'parallels'],
  ['BHYVE', 'bhyve'],
  ['Hyper-V', 'microsoft'],
  ['Apple Virtualization', 'apple'],
  ['Google Compute Engine', 'google'],
  ['Alibaba Cloud ECS', 'kvm'],
];

const NAMES: Record<string, string> = {
  kvm: 'KVM',
  qemu: 'QEMU (emulation, no KVM)',
  xen: 'Xen',
  vmware: 'VMware',
  microsoft: 'Microsoft Hyper-V',
  oracle: 'VirtualBox',
  parallels: 'Parallels',
  bhyve: 'bhyve',
  bochs: 'Bochs',
  acrn: 'ACRN',
  qnx: 'QNX hypervisor',
  sre: 'Lockheed Martin SRE',
  apple: 'Apple Virtualization',
  uml: 'User Mode Linux',
  zvm: 'IBM z/VM',
  firecracker: 'Firecracker microVM',
  'cloud-hypervisor': 'Cloud Hypervisor microVM',
  'vm-other': 'an unnamed hypervisor',
};

/** Xen guest modes, as /sys/hypervisor/guest_type names them (in capitals). */
const XEN_MODES = ['pv', 'hvm', 'pvh'] as const;
type XenMode = (typeof XEN_MODES)[number];

/** The technology underneath systemd's vendor-style ids. */
const HYPERVISOR_OF: Record<string, string> = {
  amazon: 'kvm',
  google: 'kvm',
  firecracker: 'kvm',
  'cloud-hypervisor': 'kvm',
};

/** kernel-log names (arch/x86/kernel/cpu/hypervisor.c) */
const KERNEL_NAMES: [RegExp, string][] = [
  [/KVM/, 'kvm'],
  [/Xen/, 'xen'],
  [/VMware/, 'vmware'],
  [/Microsoft Hyper-V/, 'microsoft'],
  [/ACRN/, 'acrn'],
  [/Jailhouse/, 'vm-other'],
  [/bhyve/i, 'bhyve'],
];

function ev(
  source: string,
  value: string,
  means: string,
  weight: Evidence['weight'] = 'strong',
  note?: string,
): Evidence {
  return {
    layer: 'vm',
    source,
    value: value.replace(/\0+/g, '').slice(0, 120),
    means,
    weight,
    ...(note ? { note } : {}),
  };
}

/** A CPUID signature is 12 bytes, padded with NULs. */
function cpuidVendor(sig: string): string | undefined {
  let end = sig.length;
  while (end > 0 && sig.charCodeAt(end - 1) === 0) end--;
  const name = sig.slice(0, end);
  return CPUID_VENDORS.find(([k]) => k === name)?.[1];
}

/** DMI strings start with the vendor's name. */
function dmiVendor(value: string): string | undefined {
  return DMI_VENDORS.find(([k]) => value.startsWith(k))?.[1];
}

interface CpuidResult {
  /** The deciding signature: the highest known leaf, else Microsoft Hv, else unknown. */
  type: string | null;
  evidence: Evidence[];
  denied: boolean;
}

function readCpuid(src: VirtSource): CpuidResult {
  const evidence: Evidence[] = [];
  let best: { type: string; leaf: number } | undefined;
  let microsoft = false;
  let unknown = false;
  let denied = false;
  for (let n = 0; n < 0x100; n++) {
    const leaf = 0x40000000 + n * 0x100;
    const r = src.cpuidVendor(leaf);
    if (r.status === 'denied') {
      denied = true;
      break;
    }
    if (r.status !== 'ok') continue;
    const sig = r.value;
    if (!/[A-Za-z]/.test(sig)) continue;
    const type = cpuidVendor(sig);
    const where = `cpuid 0x${leaf.toString(16)}`;
    if (type === 'microsoft') {
      microsoft = true;
      evidence.push(
        ev(
          where,
          sig,
          'microsoft',
          'supporting',
          n > 0 ? undefined : 'Hyper-V enlightenments are also offered by KVM and Xen',
        ),
      );
    } else if (type) {
      best = { type, leaf };
      evidence.push(ev(where, sig, type));
    } else {
      unknown = true;
      evidence.push(ev(where, sig, 'vm-other', 'supporting'));
    }
  }
  return { type: best?.type ?? (microsoft ? 'microsoft' : unknown ? 'vm-other' : null), evidence, denied };
}

/** Firecracker and Cloud Hypervisor name themselves in the ACPI tables (OEM id, FADT hypervisor vendor id). */
function acpiVmm(src: VirtSource, facts: Facts): { type: string | null; evidence: Evidence[]; denied: boolean } {
  const evidence: Evidence[] = [];
  let denied = false;
  for (const table of ['FACP', 'DSDT', 'APIC']) {
    const r = src.readBytes(`/sys/firmware/acpi/tables/${table}`);
    if (r.status === 'denied') denied = true;
    if (r.status !== 'ok' || r.value.length < 16) continue;
    const oem = r.value.subarray(10, 16).toString('latin1');
    const fadtVendor = table === 'FACP' && r.value.length >= 276 ? r.value.subarray(268, 276).toString('latin1') : '';
    if (oem === 'FIRECK' || fadtVendor === 'FIRECKVM')
      evidence.push(
        ev(
          `/sys/firmware/acpi/tables/${table}`,
          `OEM ${oem}${fadtVendor ? `, hypervisor ${fadtVendor}` : ''}`,
          'firecracker',
        ),
      );
    else if (oem === 'CLOUDH')
      evidence.push(ev(`/sys/firmware/acpi/tables/${table}`, `OEM ${oem}`, 'cloud-hypervisor'));
    else if (oem === 'BOCHS ')
      evidence.push(
        ev(
          `/sys/firmware/acpi/tables/${table}`,
          `OEM ${oem}`,
          'qemu',
          'supporting',
          'QEMU writes BOCHS as the ACPI OEM',
        ),
      );
    if (evidence.length) break;
  }
  if (!evidence.some((e) => e.weight === 'strong') && facts.dmesg.status === 'ok') {
    const line = /ACPI: \w+ 0x[0-9A-F]+ [0-9A-F]+ \(v\d+ (FIRECK|CLOUDH)/.exec(facts.dmesg.value);
    if (line) evidence.push(ev('command dmesg', line[0], line[1] === 'FIRECK' ? 'firecracker' : 'cloud-hypervisor'));
  }
  const strong = evidence.find((e) => e.weight === 'strong');
  return { type: strong?.means ?? null, evidence, denied };
}

export function detectVm(src: VirtSource, facts: Facts): VmLayer {
  const evidence: Evidence[] = [];
  const result = (type: string | null, confidence: Confidence, extra: Partial<VmLayer> = {}): VmLayer => ({
    type,
    status: type ? 'found' : confidence === 'unknown' ? 'unknown' : 'none',
    confidence,
    name: type ? (extra.name ?? NAMES[type] ?? type) : null,
    hypervisor: type ? (HYPERVISOR_OF[type] ?? (type === 'vm-other' ? null : type)) : null,
    ...extra,
    evidence,
  });

  // Kinds of evidence, each gathered in full so the report can show all of it.
  const flags = facts.flags;
  const hypervisorBit = flags ? flags.has('hypervisor') : null;
  if (hypervisorBit !== null)
    evidence.push(
      ev(
        '/proc/cpuinfo',
        hypervisorBit ? 'flags: hypervisor' : 'no hypervisor flag',
        hypervisorBit ? 'a hypervisor' : 'none',
        'supporting',
      ),
    );
  else if (facts.cpuinfo.status === 'denied')
    evidence.push(ev('/proc/cpuinfo', 'permission denied', 'unknown', 'denied'));

  const cpuid = readCpuid(src);
  evidence.push(...cpuid.evidence);
  let cpuType = cpuid.type;
  if (!cpuType) {
    // No CPUID device (not root): lscpu runs the instruction itself.
    const lscpu = src.command('lscpu');
    const vendor = lscpu.status === 'ok' ? /^Hypervisor vendor:\s*(.+)$/m.exec(lscpu.value)?.[1]?.trim() : undefined;
    if (vendor) {
      const map: Record<string, string> = {
        KVM: 'kvm',
        Xen: 'xen',
        Microsoft: 'microsoft',
        VMware: 'vmware',
        Parallels: 'parallels',
        bhyve: 'bhyve',
        ACRN: 'acrn',
        Apple: 'apple',
      };
      cpuType = map[vendor] ?? 'vm-other';
      evidence.push(ev('command lscpu', `Hypervisor vendor: ${vendor}`, cpuType));
    }
  }
  const kernelLog =
    facts.dmesg.status === 'ok' ? /Hypervisor detected: (.+)/.exec(facts.dmesg.value)?.[1]?.trim() : undefined;
  const kernelType = kernelLog ? KERNEL_NAMES.find(([re]) => re.test(kernelLog))?.[1] : undefined;
  if (kernelLog)
    evidence.push(ev('command dmesg', `Hypervisor detected: ${kernelLog}`, kernelType ?? 'vm-other', 'supporting'));
  if (facts.dmesg.status === 'ok' && /Booting paravirtualized kernel on bare hardware/.test(facts.dmesg.value))
    evidence.push(ev('command dmesg', 'Booting paravirtualized kernel on bare hardware', 'none', 'supporting'));

  let dmiType: string | undefined;
  let dmiSource = '';
  let dmiDenied = false;
  for (const f of ['product_name', 'sys_vendor', 'board_vendor', 'bios_vendor', 'product_version'] as const) {
    const r = facts.dmi[f];
    if (r.status === 'denied') dmiDenied = true;
    const v = text(r);
    if (!v) continue;
    const t = dmiVendor(v);
    if (t && !dmiType) {
      dmiType = t;
      dmiSource = `/sys/class/dmi/id/${f}`;
      evidence.push(ev(dmiSource, v, t));
    }
  }
  const productName = text(facts.dmi.product_name) ?? '';
  const sysVendor = text(facts.dmi.sys_vendor) ?? '';
  if (!dmiType && /^Microsoft Corporation/.test(sysVendor) && /^Virtual Machine/.test(productName)) {
    dmiType = 'microsoft';
    dmiSource = '/sys/class/dmi/id/product_name';
    evidence.push(ev(dmiSource, `${sysVendor} ${productName}`, 'microsoft'));
  }
  const dmiReadable = Object.values(facts.dmi).some((r) => r.status === 'ok');
  if (!dmiType && dmiReadable && sysVendor)
    evidence.push(
      ev('/sys/class/dmi/id/sys_vendor', sysVendor, 'none', 'supporting', 'no hypervisor vendor in the DMI'),
    );
  const amazonMetal = dmiType === 'amazon' && /\.metal$/.test(productName);

  const acpi = acpiVmm(src, facts);
  evidence.push(...acpi.evidence);
  if (acpi.denied && !acpi.type)
    evidence.push(ev('/sys/firmware/acpi/tables', 'permission denied', 'unknown', 'denied'));
  if (cpuid.denied)
    evidence.push(ev('/dev/cpu/0/cpuid', 'permission denied', 'unknown', 'denied', 'lscpu is asked instead'));

  // Hints: never decide alone, but back up the rest.
  const clock = text(src.read('/sys/devices/system/clocksource/clocksource0/available_clocksource'));
  if (clock && /kvm-clock|xen|hyperv_clocksource|tsc_page/.test(clock))
    evidence.push(
      ev(
        '/sys/devices/system/clocksource/clocksource0/available_clocksource',
        clock,
        /kvm-clock/.test(clock) ? 'kvm' : /xen/.test(clock) ? 'xen' : 'microsoft',
        'supporting',
      ),
    );
  const pci = src.list('/sys/bus/pci/devices');
  if (pci.status === 'ok') {
    const vendors = new Set(
      pci.value.map((d) => text(src.read(`/sys/bus/pci/devices/${d}/vendor`))).filter((v): v is string => !!v),
    );
    const pciMap: Record<string, string> = {
      '0x1af4': 'kvm',
      '0x15ad': 'vmware',
      '0x80ee': 'oracle',
      '0x1414': 'microsoft',
      '0x5853': 'xen',
      '0x1ab8': 'parallels',
    };
    for (const v of vendors) {
      const means = pciMap[v];
      if (means)
        evidence.push(
          ev(
            '/sys/bus/pci/devices/*/vendor',
            v,
            means,
            'supporting',
            v === '0x1af4' ? 'virtio devices (also used by other VMMs, or passed through on bare metal)' : undefined,
          ),
        );
    }
  }
  const lxdPort = src.list('/sys/class/virtio-ports');
  const lxdVm =
    lxdPort.status === 'ok' &&
    lxdPort.value.some((p) =>
      /org\.linuxcontainers\.lxd|com\.canonical\.lxd/.test(text(src.read(`/sys/class/virtio-ports/${p}/name`)) ?? ''),
    );
  if (lxdVm)
    evidence.push(ev('/sys/class/virtio-ports/*/name', 'org.linuxcontainers.lxd', 'kvm (LXD VM)', 'supporting'));

  // Decide.
  // high: two independent kinds of evidence (CPUID, DMI, ACPI, the kernel log, Xen sysfs) name it.
  const kindOf = (source: string): string =>
    source.startsWith('cpuid') || source === 'command lscpu'
      ? 'cpuid'
      : source.startsWith('/sys/class/dmi')
        ? 'dmi'
        : source.startsWith('/sys/firmware/acpi')
          ? 'acpi'
          : source;
  const confidenceFor = (type: string): Confidence => {
    const family = HYPERVISOR_OF[type] ?? type;
    // QEMU's firmware names QEMU whether or not KVM accelerates it.
    const names = (means: string): boolean =>
      means === type ||
      means === family ||
      means.startsWith(`${type} `) ||
      HYPERVISOR_OF[means] === family ||
      (family === 'kvm' && means === 'qemu');
    const kinds = new Set(
      evidence
        .filter((e) => (e.weight === 'strong' || e.source === 'command dmesg') && names(e.means))
        .map((e) => kindOf(e.source)),
    );
    return kinds.size >= 2 ? 'high' : 'medium';
  };

  // 1. UML (a UML guest inside KVM inherits KVM's CPUID).
  if (facts.cpuinfo.status === 'ok' && /^vendor_id\s*:\s*User Mode Linux/m.test(facts.cpuinfo.value)) {
    evidence.push(ev('/proc/cpuinfo', 'vendor_id: User Mode Linux', 'uml'));
    return result('uml', 'high');
  }
  // 2. s390: z/VM or KVM from /proc/sysinfo.
  const sysinfo = text(src.read('/proc/sysinfo'));
  const controlProgram = sysinfo ? /VM00 Control Program:.*/.exec(sysinfo)?.[0] : undefined;
  if (sysinfo && controlProgram !== undefined) {
    const zvm = /VM00 Control Program:\s*z\/VM/.test(sysinfo);
    evidence.push(ev('/proc/sysinfo', controlProgram, zvm ? 'zvm' : 'kvm'));
    return result(zvm ? 'zvm' : 'kvm', 'high');
  }
  // 3. DMI that must win over CPUID: VirtualBox (its KVM paravirt interface shows KVMKVMKVM), Parallels.
  if (dmiType === 'oracle' || dmiType === 'parallels')
    return result(
      dmiType,
      cpuType ? 'high' : 'medium',
      hypervisorBit === false && !cpuType ? { hiddenHypervisorBit: true } : {},
    );
  // 4. Xen: /proc/xen or /sys/hypervisor/type, with the guest mode.
  const hvType = text(src.read('/sys/hypervisor/type'));
  const procXen = src.list('/proc/xen').status === 'ok';
  if (hvType === 'xen' || procXen || dmiType === 'xen' || cpuType === 'xen') {
    if (hvType) evidence.push(ev('/sys/hypervisor/type', hvType, hvType === 'xen' ? 'xen' : hvType));
    if (procXen) evidence.push(ev('/proc/xen', 'exists', 'xen', 'supporting'));
    const caps = text(src.read('/proc/xen/capabilities')) ?? '';
    const features = text(src.read('/sys/hypervisor/properties/features'));
    const featureBits = features && /^[0-9a-f]+$/i.test(features) ? BigInt(`0x${features}`) : null;
    // The control domain, by its capabilities or by bit 11 of the features: where it was read and what was there.
    const dom0Seen: readonly [string, string] | undefined = caps.includes('control_d')
      ? ['/proc/xen/capabilities', 'control_d']
      : features && featureBits !== null && ((featureBits >> 11n) & 1n) === 1n
        ? ['/sys/hypervisor/properties/features', features]
        : undefined;
    const dom0 = dom0Seen !== undefined;
    if (dom0Seen) evidence.push(ev(dom0Seen[0], dom0Seen[1], 'xen (dom0)'));
    const guestType = text(src.read('/sys/hypervisor/guest_type'));
    const guestMode = guestType ? XEN_MODES.find((m) => m === guestType.toLowerCase()) : undefined;
    let mode: XenMode | null = null;
    if (guestType && guestMode) {
      mode = guestMode;
      evidence.push(ev('/sys/hypervisor/guest_type', guestType, `xen (${mode})`));
    } else if (cpuType === 'xen' || dmiType === 'xen') mode = 'hvm';
    else if (procXen && hypervisorBit === false) mode = 'pv';
    // dom0 nested in another hypervisor: report that one, as systemd does.
    if (dom0 && cpuType && cpuType !== 'xen' && cpuType !== 'microsoft') return result(cpuType, confidenceFor(cpuType));
    const name = dom0
      ? 'Xen (dom0: the control domain of a Xen host)'
      : `Xen ${mode ? mode.toUpperCase() : ''} guest`.replace('  ', ' ');
    return result('xen', confidenceFor('xen'), { name, xen: { mode, dom0 } });
  }
  // 5. Firecracker / Cloud Hypervisor: KVM-based VMMs that name themselves in ACPI.
  if (acpi.type) return result(acpi.type, cpuType === 'kvm' || kernelType === 'kvm' ? 'high' : 'medium');
  // 6. A known CPUID signature (the highest leaf's, so KVM beats its Hyper-V enlightenments).
  if (cpuType && cpuType !== 'microsoft' && cpuType !== 'vm-other') {
    if (cpuType === 'kvm' && lxdVm) return result('kvm', 'high', { name: 'KVM (LXD virtual machine)' });
    const vendorName =
      dmiType === 'amazon' ? 'KVM (AWS Nitro)' : dmiType === 'google' ? 'KVM (Google Compute Engine)' : undefined;
    return result(cpuType, confidenceFor(cpuType), vendorName ? { name: vendorName } : {});
  }
  // 7. DMI alone (or with Hyper-V's signature).
  if (amazonMetal) {
    evidence.push(ev('/sys/class/dmi/id/product_name', productName, 'none', 'strong', 'an EC2 bare-metal instance'));
    return result(null, 'high');
  }
  if (dmiType && dmiType !== 'microsoft') {
    let type = dmiType === 'amazon' || dmiType === 'google' ? 'kvm' : dmiType;
    // QEMU's firmware says QEMU whether or not KVM runs it; with no CPUID to read (a saved machine, a
    // sandbox), the kernel's own traces tell: KVM's paravirtual clock (kvm-clock), which software
    // emulation (TCG) does not offer, or its boot log naming KVM.
    if (type === 'qemu' && (kernelType === 'kvm' || (clock !== null && /\bkvm-clock\b/.test(clock)))) type = 'kvm';
    const hidden = hypervisorBit === false;
    if (hidden)
      evidence.push(
        ev(
          '/proc/cpuinfo',
          'no hypervisor flag',
          type,
          'supporting',
          'the hypervisor hides the CPUID bit; the firmware still names it',
        ),
      );
    return result(
      type,
      kernelType === type || cpuType === type ? 'high' : 'medium',
      hidden ? { hiddenHypervisorBit: true } : {},
    );
  }
  if (cpuType === 'microsoft' || dmiType === 'microsoft')
    return result('microsoft', cpuType === 'microsoft' && dmiType === 'microsoft' ? 'high' : 'medium');
  if (kernelType) return result(kernelType, 'medium');
  // 8. Device tree (arm, ppc, riscv).
  const dtHyp = text(src.read('/proc/device-tree/hypervisor/compatible'));
  if (dtHyp) {
    const t = /kvm/.test(dtHyp) ? 'kvm' : /xen/.test(dtHyp) ? 'xen' : /vmware/.test(dtHyp) ? 'vmware' : 'vm-other';
    evidence.push(ev('/proc/device-tree/hypervisor/compatible', dtHyp, t));
    return result(t, 'medium');
  }
  const dtCompat = text(src.read('/proc/device-tree/compatible'));
  if (dtCompat && /qemu,pseries|linux,dummy-virt/.test(dtCompat)) {
    evidence.push(ev('/proc/device-tree/compatible', dtCompat, 'kvm'));
    return result('kvm', 'medium');
  }
  // 9. An unnamed hypervisor: the bit is set, or only hints remain.
  if (cpuType === 'vm-other' || hypervisorBit) {
    const hint = evidence.find(
      (e) => e.weight === 'supporting' && e.means !== 'a hypervisor' && e.means !== 'none' && e.means !== 'vm-other',
    );
    if (hint) return result(before(hint.means, ' '), 'low');
    return result('vm-other', 'low');
  }
  // 10. Bare metal, if the evidence that would show a hypervisor could be read.
  if (hypervisorBit === false && (dmiReadable || !cpuid.denied || facts.dmesg.status === 'ok'))
    return result(null, dmiReadable && !dmiDenied ? 'high' : 'medium');
  if (hypervisorBit === false) return result(null, 'medium');
  return result(null, 'unknown');
}
