// `vpsline virt` on the machine the tests run on, checked against that
// machine's own evidence, read here independently (not hard-coded), and
// against systemd-detect-virt and virt-what where they are installed: where
// they disagree, the report must hold the evidence that explains why.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { detectVirt } from '../../src/virt/detect.js';
import type { VirtReport } from '../../src/virt/types.js';
import { checkoutFor } from '../../lab/checkout.js';
import { hasCommand } from '../../lab/tools.js';

const isRoot = process.getuid?.() === 0;

function read(path: string): string | null {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return null;
  }
}

function run(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  return r.error ? null : r.stdout.trim();
}

describe('virt on this machine', () => {
  let report: VirtReport;
  before(async () => {
    report = await detectVirt({ stealSampleMs: 0 });
  });

  test('the VM layer agrees with the CPU hypervisor flag and lscpu', () => {
    const flags = /^flags\s*:(.*)$/m.exec(read('/proc/cpuinfo') ?? '')?.[1]?.split(/\s+/) ?? [];
    if (flags.includes('hypervisor'))
      assert.equal(report.vm.status, 'found', 'the CPU says a hypervisor runs this kernel');
    const vendor = /^Hypervisor vendor:\s*(\S+)/m.exec(run('lscpu', []) ?? '')?.[1];
    if (vendor)
      assert.equal(
        report.vm.hypervisor,
        vendor.toLowerCase() === 'microsoft' ? 'microsoft' : vendor.toLowerCase(),
        `lscpu says ${vendor}`,
      );
  });

  test('Firecracker is named when its ACPI tables say so (root only)', {
    skip: isRoot ? false : 'needs root: the ACPI tables are root-only',
  }, () => {
    const facp = read('/sys/firmware/acpi/tables/FACP');
    const firecracker = facp !== null && facp.slice(10, 16) === 'FIRECK';
    assert.equal(report.vm.type === 'firecracker', firecracker, `FACP OEM ${facp?.slice(10, 16)}`);
  });

  test('the container layer agrees with the namespaces', () => {
    let pidNs: string | null = null;
    try {
      pidNs = readlinkSync('/proc/self/ns/pid');
    } catch {
      // unreadable: no claim either way
    }
    const kthreadd = read('/proc/2/comm')?.trim() === 'kthreadd';
    const cgroupNs = (() => {
      try {
        return readlinkSync('/proc/self/ns/cgroup');
      } catch {
        return null;
      }
    })();
    if (pidNs === 'pid:[4026531836]' && kthreadd && (cgroupNs === null || cgroupNs === 'cgroup:[4026531835]'))
      assert.equal(report.container.type, null, 'initial namespaces: not a container');
    if (pidNs && pidNs !== 'pid:[4026531836]')
      assert.equal(report.container.status, 'found', `own PID namespace ${pidNs}`);
  });

  test('systemd-detect-virt: same VM id; where the container id differs, the rejected evidence explains it', {
    skip: hasCommand('systemd-detect-virt') ? false : 'systemd-detect-virt is not installed',
  }, () => {
    const vm = run('systemd-detect-virt', ['--vm']);
    const container = run('systemd-detect-virt', ['--container']);
    assert.equal(report.systemdTerms.vm, vm, `systemd-detect-virt --vm says ${vm}`);
    if (container !== report.systemdTerms.container) {
      assert.equal(report.container.type, null, `systemd says ${container}, we say ${report.container.type}`);
      assert.ok(
        report.evidence.some((e) => e.weight === 'rejected' && e.means === container),
        `systemd says ${container}: the report must show that marker as rejected evidence ` +
          `(${JSON.stringify(report.container.evidence)})`,
      );
    }
  });

  test('virt-what: every fact it prints is in the report, or rejected with a reason', {
    skip: !isRoot ? 'virt-what needs root' : hasCommand('virt-what') ? false : 'virt-what is not installed',
  }, () => {
    const facts = (run('virt-what', []) ?? '').split('\n').filter(Boolean);
    for (const fact of facts) {
      const family = fact
        .replace(/^xen-.*/, 'xen')
        .replace(/^(hyperv|virtualpc)$/, 'microsoft')
        .replace(/^virtualbox$/, 'oracle');
      const agrees =
        report.vm.hypervisor === family ||
        report.vm.type === family ||
        report.container.type === family ||
        report.provider.id === family;
      const rejected = report.evidence.some((e) => e.weight === 'rejected' && e.means === family);
      assert.ok(
        agrees || rejected,
        `virt-what says ${fact}; report: container ${report.container.type}, vm ${report.vm.type}`,
      );
    }
  });

  test('as uid 65534: unreadable evidence is reported as unknown, and the answer stays right', {
    skip: isRoot ? false : 'needs root to switch to uid 65534',
  }, () => {
    const dir = checkoutFor(65534);
    const out = execFileSync(
      'setpriv',
      [
        '--reuid',
        '65534',
        '--regid',
        '65534',
        '--clear-groups',
        process.execPath,
        join(dir, 'bin', 'vpsline.js'),
        'virt',
        '--json',
        '--steal',
        '0',
      ],
      { encoding: 'utf8', cwd: '/tmp' },
    );
    const asNobody = JSON.parse(out) as VirtReport;
    assert.equal(asNobody.container.type, report.container.type);
    assert.equal(
      asNobody.vm.hypervisor,
      report.vm.hypervisor,
      'the hypervisor family is still found (lscpu runs CPUID)',
    );
    if (read('/proc/1/environ') === null || !isRoot)
      assert.ok(
        asNobody.evidence.some((e) => e.weight === 'denied'),
        'denied reads are listed',
      );
    assert.ok(
      !asNobody.evidence.some((e) => e.weight === 'denied' && e.means !== 'unknown'),
      'a denied read never means "no"',
    );
  });
});
