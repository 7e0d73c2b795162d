// Real containers and QEMU guests, captured (test/virt/captures/README.md):
// every dump reads back to the container (or none) its truth.json says was
// made, on the hypervisor of the machine underneath, and for a guest to the
// VM it was. The dumps were made on a real machine, not written
// here, so the detector cannot have been shaped to them file by file.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { detectVirt } from '../../src/virt/detect.js';
import { openDump } from '../../src/virt/dump.js';

const CAPTURES = new URL('./captures/', import.meta.url).pathname;
const names = readdirSync(CAPTURES, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

describe('captures from real containers and QEMU guests', () => {
  test('there are captures', () => assert.ok(names.length >= 6, names.join(', ')));
  for (const name of names) {
    test(name, async () => {
      const truth = JSON.parse(readFileSync(join(CAPTURES, name, 'truth.json'), 'utf8')) as {
        container: string | null;
        hypervisor: string;
        vm?: string;
      };
      const source = openDump(join(CAPTURES, name, 'dump'));
      assert.ok(source, 'a dump');
      const report = await detectVirt({ source, stealSampleMs: 0 });
      assert.equal(report.container.type, truth.container, JSON.stringify(report.container.evidence));
      assert.equal(report.vm.hypervisor, truth.hypervisor);
      if (truth.vm) assert.equal(report.vm.type, truth.vm);
    });
  }
});
