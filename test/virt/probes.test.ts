// --probes FILE: each field is checked when the file is read, so a wrong one
// is one clear error naming it (it used to load, then throw a TypeError or
// give a wrong answer when the check read it).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isVpslineError } from '../../src/errors.js';
import { FixtureSource } from '../../src/virt/source.js';
import { scratchDir } from '../support/scratch.js';

const dir = scratchDir('vpsline-probes-');
const probes = (doc: unknown): string => {
  const file = join(dir, 'probes.json');
  writeFileSync(file, JSON.stringify(doc));
  return file;
};

test('a field of the wrong type is named', () => {
  const fails = (doc: unknown, message: RegExp): void =>
    assert.throws(
      () => FixtureSource.load(dir, probes(doc)),
      (err) => isVpslineError(err) && message.test(err.message),
    );
  fails([], /must be a JSON object/);
  fails({ cpuid: { '0x40000000': 5 } }, /"cpuid" must be/);
  fails({ commands: { lscpu: ['x'] } }, /"commands" must be/);
  fails({ denied: '/proc' }, /"denied" must be a list of paths/);
  fails({ links: { '/proc/self/ns/pid': 1 } }, /"links" must be/);
  fails({ devices: { '/dev/kvm': 'yes' } }, /"devices" must be/);
  fails({ statLater: 1 }, /"statLater" must be a string/);
});

test('good fields are used; null is the same as absent', () => {
  const src = FixtureSource.load(
    dir,
    probes({
      cpuid: { '0x40000000': 'KVMKVMKVM' },
      commands: { dmesg: 'denied' },
      denied: ['/proc/vz'],
      links: null,
      devices: { '/dev/kvm': 'denied', '/dev/net/tun': false },
      comment: 'other keys are ignored',
    }),
  );
  assert.deepEqual(src.cpuidVendor(0x40000000), { status: 'ok', value: 'KVMKVMKVM\0\0\0' });
  assert.deepEqual(src.command('dmesg'), { status: 'denied' });
  assert.deepEqual(src.command('lscpu'), { status: 'missing' });
  assert.deepEqual(src.read('/proc/vz/veinfo'), { status: 'denied' });
  assert.deepEqual(src.openDevice('/dev/kvm'), { status: 'denied' });
  assert.deepEqual(src.openDevice('/dev/net/tun'), { status: 'ok', value: false });
});
