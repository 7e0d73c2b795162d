// `vpsline virt` inside real QEMU guests (TCG: QEMU emulates the CPU, no KVM),
// of both machine types (i440FX and Q35) and both firmwares (SeaBIOS and
// OVMF), each against how it was made, with systemd-detect-virt and virt-what
// run in the same guest for the record. Half the guests load the cpuid driver
// and half do not: without it the guest shows what a saved machine shows, the
// kernel's own traces and no CPUID, and must still be named. Each guest's
// `--dump` is read back outside with `--root`: the same verdict. With
// VPSLINE_CAPTURE_DIR set, the dumps are kept there (test/virt/captures/).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { type GuestMachine, guestMissing, qemuArgs, runInGuest } from '../../lab/qemu-guest.js';
import { scratchDir } from '../support/scratch.js';
import { assertReadsBack, keepCapture, type Verdict } from '../support/virt-capture.js';

const repo = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');
const isRoot = process.getuid?.() === 0;

interface Guest extends GuestMachine {
  name: string;
  /** What the firmware writes into the DMI: how to tell the guest booted as made. */
  dmi: { product: RegExp; bios: RegExp };
}

const I440FX = /^Standard PC \(i440FX \+ PIIX, 1996\)$/;
const Q35 = /^Standard PC \(Q35 \+ ICH9, 2009\)$/;
const SEABIOS = /^SeaBIOS$/;
const OVMF = /^EFI Development Kit II \/ OVMF$/;

const GUESTS: Guest[] = [
  { name: 'QEMU TCG, i440FX, SeaBIOS', machine: 'pc', firmware: 'seabios', cpuidDriver: true },
  { name: 'QEMU TCG, Q35, SeaBIOS, no CPUID', machine: 'q35', firmware: 'seabios', cpuidDriver: false },
  { name: 'QEMU TCG, Q35, OVMF', machine: 'q35', firmware: 'ovmf', cpuidDriver: true },
  { name: 'QEMU TCG, i440FX, OVMF, no CPUID', machine: 'pc', firmware: 'ovmf', cpuidDriver: false },
].map((g) => ({
  ...(g as GuestMachine & { name: string }),
  dmi: { product: g.machine === 'pc' ? I440FX : Q35, bios: g.firmware === 'seabios' ? SEABIOS : OVMF },
}));

const skip = !isRoot ? 'QEMU guests share the host /usr over 9p as root (CI runs as root)' : undefined;

describe('vpsline virt inside real QEMU guests', { skip }, () => {
  const table: string[] = [];
  after(() => {
    if (table.length)
      console.log(
        [
          '| guest | truth | vpsline | systemd-detect-virt | virt-what | boot + run |',
          '|---|---|---|---|---|---|',
          ...table,
        ].join('\n'),
      );
  });

  for (const guest of GUESTS) {
    test(`${guest.name}: a qemu VM, no container`, { skip: guestMissing(guest) ?? false }, () => {
      const work = scratchDir('vpsline-guest-');
      const vpsline = ['/usr/bin/env', 'node', join(repo, 'bin/vpsline.js'), 'virt', '--json', '--steal', '0'];
      const run = runInGuest(
        guest,
        [
          { name: 'virt', argv: [...vpsline, '--dump', '/out/dump'] },
          { name: 'systemd-detect-virt', argv: ['systemd-detect-virt'] },
          { name: 'virt-what', argv: ['virt-what'] },
        ],
        { repo, work, timeoutMs: 300_000 },
      );
      const virt = run.results.get('virt');
      assert.ok(!run.timedOut && virt?.status === 0, `${guest.name}: ${virt?.stderr}\n${run.serial.slice(-3000)}`);
      const inside = JSON.parse(virt.stdout) as Verdict;
      const said = (tool: string) => {
        const r = run.results.get(tool);
        return (r?.stdout.trim() || `(nothing; exit ${r?.status})`).split('\n').join(', ');
      };
      table.push(
        `| ${guest.name} | qemu | ${inside.vm.type} (${inside.vm.confidence}), container ${inside.container.type} | ` +
          `${said('systemd-detect-virt')} | ${said('virt-what')} | ${run.seconds.toFixed(0)} s |`,
      );

      // The guest is the machine we asked for: its firmware says so in the DMI the dump recorded.
      const dump = join(work, 'out', 'dump');
      const dmi = (f: string) => readFileSync(join(dump, 'root/sys/class/dmi/id', f), 'utf8').trim();
      assert.match(dmi('product_name'), guest.dmi.product);
      assert.match(dmi('bios_vendor'), guest.dmi.bios);

      assert.equal(inside.vm.type, 'qemu', `${guest.name}: ${JSON.stringify(inside.vm)}`);
      assert.equal(inside.vm.hypervisor, 'qemu');
      assert.equal(inside.container.type, null);
      // With the cpuid driver, CPUID's own word (TCGTCGTCGTCG) joins the kernel's and the firmware's.
      assert.equal(inside.vm.confidence, guest.cpuidDriver ? 'high' : 'medium');

      assertReadsBack(dump, inside);
      keepCapture(guest.name, dump, () => ({
        ...{ container: null, vm: 'qemu', hypervisor: 'qemu', cpuidDriver: guest.cpuidDriver },
        made: ['qemu-system-x86_64', ...qemuArgs(guest, work, join(work, 'initramfs.cpio'), repo, '…')],
      }));
    });
  }
});
