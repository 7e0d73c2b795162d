// What the real-layer tests (test/lab/virt-layers.test.ts, virt-guests.test.ts)
// do with each layer's `--dump`: read it back outside with `--root` and
// expect the same verdict, and keep it as a capture when VPSLINE_CAPTURE_DIR
// is set (test/virt/captures/ was made that way).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Verdict {
  container: { type: string | null; confidence: string };
  vm: { type: string | null; hypervisor: string | null; confidence: string };
  systemdTerms: { virt: string };
}

const bin = new URL('../../bin/vpsline.js', import.meta.url).pathname;

/** The dump made inside reads back outside as the same machine. */
export function assertReadsBack(dump: string, inside: Verdict): void {
  const back = spawnSync(process.execPath, [bin, 'virt', '--json', '--steal', '0', '--root', dump], {
    encoding: 'utf8',
  });
  assert.equal(back.status, 0, back.stderr);
  const replay = JSON.parse(back.stdout) as Verdict;
  assert.deepEqual(
    [replay.container.type, replay.vm.type, replay.systemdTerms],
    [inside.container.type, inside.vm.type, inside.systemdTerms],
  );
}

/** With VPSLINE_CAPTURE_DIR set, keep the dump and how the layer was made under a folder named after it. */
export function keepCapture(name: string, dump: string, truth: () => object): void {
  const keep = process.env.VPSLINE_CAPTURE_DIR;
  if (!keep) return;
  const to = join(keep, name.replace(/\W+/g, '-').replace(/-$/, '').toLowerCase());
  cpSync(dump, join(to, 'dump'), { recursive: true });
  writeFileSync(join(to, 'truth.json'), `${JSON.stringify(truth(), null, 2)}\n`);
}
