// One fixture machine per environment (test/virt/fixtures/<env>), each with
// the answer it must give. What is checked is what expected.json lists.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { detectVirt } from '../../src/virt/detect.js';
import type { Evidence, VirtReport } from '../../src/virt/types.js';
import { environments, FIXTURES, materialize, type MaterializedFixture } from './fixture.js';

interface Expected {
  [key: string]: unknown;
  evidenceIncludes?: Partial<Evidence>[];
  notesInclude?: string[];
  beancounterFailures?: string[];
}

/** Every key expected lists must match; keys it leaves out are not checked. */
function assertSubset(actual: unknown, expected: unknown, path: string): void {
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) {
    assert.ok(
      actual !== null && typeof actual === 'object',
      `${path} should be an object, got ${JSON.stringify(actual)}`,
    );
    for (const [k, v] of Object.entries(expected))
      assertSubset((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
  } else
    assert.deepEqual(actual, expected, `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

const envs = environments();
const made: MaterializedFixture[] = [];
after(() => {
  for (const m of made) m.cleanup();
});

describe('virtualization fixtures', () => {
  test('there is one fixture per environment the issue lists (at least 30)', () => {
    assert.ok(envs.length >= 30, `${envs.length} fixtures`);
  });

  for (const name of envs) {
    test(name, async () => {
      const fx = materialize(name);
      made.push(fx);
      const expected = JSON.parse(readFileSync(join(FIXTURES, name, 'expected.json'), 'utf8')) as Expected;
      const report: VirtReport = await detectVirt({ source: fx.source, stealSampleMs: 1 });
      const { evidenceIncludes, notesInclude, beancounterFailures, ...layers } = expected;
      assertSubset(report, layers, name);
      for (const e of evidenceIncludes ?? [])
        assert.ok(
          report.evidence.some((x) => Object.entries(e).every(([k, v]) => x[k as keyof Evidence] === v)),
          `${name}: evidence ${JSON.stringify(e)}`,
        );
      for (const n of notesInclude ?? [])
        assert.ok(
          report.notes.some((x) => x.includes(n)),
          `${name}: a note with "${n}" in ${JSON.stringify(report.notes)}`,
        );
      if (beancounterFailures)
        assert.deepEqual(
          report.capabilities.beancounters.failures?.map((f) => f.resource),
          beancounterFailures,
        );
      // Every answer carries its evidence.
      if (report.container.status === 'found')
        assert.ok(
          report.container.evidence.some((e) => e.weight === 'strong' || e.weight === 'supporting'),
          `${name}: container evidence`,
        );
      if (report.vm.status === 'found')
        assert.ok(
          report.vm.evidence.some((e) => e.means !== 'none' && e.weight !== 'denied'),
          `${name}: vm evidence`,
        );
    });
  }
});
