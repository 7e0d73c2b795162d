// `detectVirt()`: every virtualization layer of a machine, with evidence, and
// what it means for the owner. Reads only through a VirtSource, so a fixture
// folder is as good as a machine.
import { checkCapabilities, type CapabilityOptions } from './capabilities.js';
import { detectContainer } from './container.js';
import { gatherFacts } from './facts.js';
import { detectProvider } from './provider.js';
import { say, type Reason, type ReasonCode, type ReasonParams } from './reasons.js';
import { FixtureSource, HostSource, type VirtSource } from './source.js';
import type { VirtReport, VmLayer } from './types.js';
import { detectVm } from './vm.js';

export interface DetectOptions extends CapabilityOptions {
  /** Where to read from (default: this machine). */
  source?: VirtSource;
}

/** systemd-detect-virt's id for a VM layer (it names some clouds instead of their hypervisor). */
function systemdVmId(vm: VmLayer, providerId: string | null): string {
  if (!vm.type) return 'none';
  if (vm.xen?.dom0) return 'none';
  if (vm.type === 'firecracker' || vm.type === 'cloud-hypervisor') return 'kvm';
  if (vm.type === 'kvm' && providerId === 'aws') return 'amazon';
  if (vm.type === 'kvm' && providerId === 'gce') return 'google';
  return vm.type === 'gvisor' ? 'none' : vm.type;
}

export async function detectVirt(opts: DetectOptions = {}): Promise<VirtReport> {
  const src = opts.source ?? new HostSource('/');
  const facts = gatherFacts(src);
  const container = detectContainer(src, facts);
  const vm = detectVm(src, facts);
  const provider = detectProvider(src, facts);
  const capabilities = await checkCapabilities(src, facts, container, opts);
  const noteReasons: Reason[] = [];
  const note = (code: ReasonCode, params: ReasonParams = {}): void => void noteReasons.push({ code, params });
  const rejected = container.evidence.filter((e) => e.weight === 'rejected');
  const [firstRejected] = rejected;
  if (firstRejected)
    note('note.artifact', { files: rejected.map((e) => e.source).join(', '), means: firstRejected.means });
  if (container.type === 'openvz' && vm.type) note('note.ovzOnVm');
  if (vm.hiddenHypervisorBit) note('note.hiddenBit');
  if (vm.type === 'kvm' && vm.evidence.some((e) => e.source.startsWith('/sys/firmware/acpi') && e.weight === 'denied'))
    note('note.root');
  const denied = [...container.evidence, ...vm.evidence, ...provider.evidence].filter((e) => e.weight === 'denied');
  if (denied.length) note('note.denied', { files: [...new Set(denied.map((e) => e.source))].join(', ') });
  const systemdContainer = container.type === 'gvisor' ? 'container-other' : (container.type ?? 'none');
  const vmId = systemdVmId(vm, provider.id);
  return {
    container,
    vm,
    provider,
    evidence: [...container.evidence, ...vm.evidence, ...provider.evidence],
    capabilities,
    systemdTerms: {
      virt: systemdContainer !== 'none' ? systemdContainer : vmId,
      vm: vmId,
      container: systemdContainer,
    },
    notes: noteReasons.map((r) => say(r.code, r.params)),
    noteReasons,
  };
}

export { FixtureSource, HostSource };
