// Who sells the machine, where the firmware says so (a separate question from
// the hypervisor: GCE and Alibaba run KVM, Azure runs Hyper-V).
import { text, type Facts } from './facts.js';
import type { VirtSource } from './source.js';
import type { Evidence, ProviderLayer } from './types.js';

interface Rule {
  id: string;
  name: string;
  field:
    | 'sys_vendor'
    | 'product_name'
    | 'bios_vendor'
    | 'bios_version'
    | 'chassis_asset_tag'
    | 'chassis_vendor'
    | 'product_serial'
    | 'board_vendor';
  test: RegExp;
}

// DMI strings from cloud-init's ds-identify, systemd and virt-what (virt-detect.md §2c).
const RULES: Rule[] = [
  { id: 'aws', name: 'Amazon Web Services (EC2)', field: 'sys_vendor', test: /^Amazon EC2/ },
  { id: 'aws', name: 'Amazon Web Services (EC2)', field: 'bios_version', test: /\.amazon$/ },
  { id: 'gce', name: 'Google Compute Engine', field: 'product_name', test: /^Google Compute Engine/ },
  { id: 'gce', name: 'Google Compute Engine', field: 'bios_vendor', test: /^Google/ },
  { id: 'azure', name: 'Microsoft Azure', field: 'chassis_asset_tag', test: /^7783-7084-3265-9085-8269-3286-77$/ },
  { id: 'oracle-cloud', name: 'Oracle Cloud', field: 'chassis_asset_tag', test: /^OracleCloud\.com/ },
  { id: 'alibaba', name: 'Alibaba Cloud', field: 'sys_vendor', test: /^Alibaba Cloud/ },
  { id: 'alibaba', name: 'Alibaba Cloud', field: 'product_name', test: /^Alibaba Cloud ECS/ },
  { id: 'tencent', name: 'Tencent Cloud', field: 'sys_vendor', test: /^Tencent Cloud/ },
  { id: 'huawei', name: 'Huawei Cloud', field: 'chassis_asset_tag', test: /^HUAWEICLOUD/ },
  { id: 'huawei', name: 'Huawei Cloud', field: 'sys_vendor', test: /^Huawei Cloud/ },
  { id: 'digitalocean', name: 'DigitalOcean', field: 'sys_vendor', test: /^DigitalOcean/ },
  { id: 'vultr', name: 'Vultr', field: 'sys_vendor', test: /^Vultr/ },
  { id: 'hetzner', name: 'Hetzner', field: 'sys_vendor', test: /^Hetzner/ },
  { id: 'linode', name: 'Linode (Akamai)', field: 'sys_vendor', test: /^(Linode|Akamai)/ },
  { id: 'upcloud', name: 'UpCloud', field: 'sys_vendor', test: /^UpCloud/ },
  { id: 'scaleway', name: 'Scaleway', field: 'sys_vendor', test: /^Scaleway/ },
  { id: 'exoscale', name: 'Exoscale', field: 'product_name', test: /^Exoscale/ },
  { id: 'openstack', name: 'an OpenStack cloud', field: 'product_name', test: /^OpenStack (Nova|Compute)/ },
  { id: 'proxmox', name: 'Proxmox VE', field: 'product_name', test: /proxmox/i },
];

/** Alibaba and EC2 both also mark their bare-metal offerings. */
function bareMetal(id: string, facts: Facts): boolean {
  const product = text(facts.dmi.product_name) ?? '';
  return id === 'aws' && /\.metal$/.test(product);
}

export function detectProvider(src: VirtSource, facts: Facts): ProviderLayer {
  const evidence: Evidence[] = [];
  let found: Rule | undefined;
  for (const rule of RULES) {
    const r = facts.dmi[rule.field];
    if (r.status === 'denied' && !evidence.some((e) => e.source.endsWith(rule.field)))
      evidence.push({
        layer: 'provider',
        source: `/sys/class/dmi/id/${rule.field}`,
        value: 'permission denied',
        means: 'unknown',
        weight: 'denied',
      });
    const v = text(r);
    if (v && rule.test.test(v)) {
      evidence.push({
        layer: 'provider',
        source: `/sys/class/dmi/id/${rule.field}`,
        value: v.slice(0, 120),
        means: rule.id,
        weight: found && found.id !== rule.id ? 'supporting' : 'strong',
      });
      found ??= rule;
    }
  }
  // Xen-era EC2 names itself in the hypervisor UUID.
  const hvUuid = text(src.read('/sys/hypervisor/uuid'));
  if (hvUuid && /^ec2/i.test(hvUuid)) {
    evidence.push({
      layer: 'provider',
      source: '/sys/hypervisor/uuid',
      value: hvUuid,
      means: 'aws',
      weight: found ? 'supporting' : 'strong',
    });
    found ??= RULES[0];
  }
  if (!found) return { id: null, name: null, bareMetal: false, evidence };
  return { id: found.id, name: found.name, bareMetal: bareMetal(found.id, facts), evidence };
}
