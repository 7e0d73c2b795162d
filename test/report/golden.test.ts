// vpsline's renderers against real mtr 0.95's outputs (test/golden/mtr/),
// without the lab: each file's figures are read back into a report, rendered
// with the same options, and compared byte for byte (only the start time is
// masked: the report prints it in local time). The lab test
// (test/lab/golden.test.ts) measures the same path for real.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { renderCsv, renderXml } from '../../src/report/csv-xml.js';
import { renderJson } from '../../src/report/json.js';
import { renderReport } from '../../src/report/mtr-report.js';
import { GOLDEN_CASES, GOLDEN_DIR, type GoldenCase } from '../golden/cases.js';
import { maskGolden } from '../golden/mask.js';
import {
  formatOf,
  goldenAsOf,
  goldenNameOf,
  parseGolden,
  rebuildReport,
  withoutExtensions,
} from '../golden/rebuild.js';

/** What vpsline prints for a case's options, given the report. */
export function renderCase(c: GoldenCase, text: string): string {
  const format = formatOf(c);
  const flags = c.args[0] ?? '';
  const report = rebuildReport(c, parseGolden(format, text), new Date('2026-12-02T04:37:17Z'));
  const names = {
    ...(flags.includes('n') ? {} : { nameOf: goldenNameOf }),
    ...(flags.includes('z') ? { asOf: goldenAsOf } : {}),
    ...(flags.includes('b') ? { showBoth: true } : {}),
  };
  switch (format) {
    case 'csv':
      return `${renderCsv(report, names)}\n`;
    case 'xml':
      return `${renderXml(report, names)}\n`;
    case 'json':
      return `${withoutExtensions(renderJson(report, names))}\n`;
    default:
      return `${renderReport(report, { ...names, wide: flags.includes('w'), mpls: flags.includes('e') })}\n`;
  }
}

describe('renderers against real mtr 0.95 (golden files)', () => {
  for (const c of GOLDEN_CASES) {
    test(`mtr ${c.args.join(' ')} ${c.target} (${c.about})`, () => {
      const golden = readFileSync(`${GOLDEN_DIR}${c.name}.txt`, 'utf8');
      const m = maskGolden(golden, renderCase(c, golden));
      assert.equal(m.ours, m.golden);
    });
  }
});
