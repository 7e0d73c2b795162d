// `vpsline classify` fed what a hostile or careless user pastes: each input
// gets a verdict or one line saying what is wrong, with exit code 0 or 2,
// never a stack trace, in well under the bound that separates a parse from a
// stall (the old importer took 80 s on one 250 KB line), and in bounded
// memory (peak RSS measured by GNU time, which CI installs).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { scratchDir } from '../support/scratch.js';

const bin = new URL('../../bin/vpsline.js', import.meta.url).pathname;
const dir = scratchDir('vpsline-hostile-');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** Peak resident memory in MB. */
  peakMb: number;
}

/** vpsline classify on a file (or stdin fed by `feed`), under GNU time for the peak RSS. */
function classify(file: string, feed?: (stdin: NodeJS.WritableStream) => void): Promise<Run> {
  return new Promise((resolve) => {
    const start = performance.now();
    const child = spawn('/usr/bin/time', ['-q', '-f', 'peak-kb %M', process.execPath, bin, 'classify', file], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.stdin.on('error', () => {}); // a refusal may close the pipe while we still write
    child.on('close', (code) => {
      const peak = /peak-kb (\d+)\s*$/.exec(stderr);
      resolve({
        code,
        stdout,
        stderr: stderr.replace(/peak-kb \d+\s*$/, ''),
        ms: performance.now() - start,
        peakMb: peak ? Number(peak[1]) / 1024 : Number.NaN,
      });
    });
    if (feed) feed(child.stdin);
    else child.stdin.end();
  });
}

function written(name: string, content: string | Buffer): string {
  const f = join(dir, name);
  writeFileSync(f, content);
  return f;
}

/** One of the two allowed outcomes: a verdict, or exit 2 with exactly one line of explanation. */
function assertClean(r: Run, what: string, expect?: RegExp): void {
  assert.ok(!/\n\s+at /.test(r.stderr), `${what}: stack trace\n${r.stderr}`);
  if (r.code === 0) assert.match(r.stdout, /^Line: /m, `${what}: a verdict`);
  else {
    assert.equal(r.code, 2, `${what}: exit ${r.code}\n${r.stderr}`);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, `${what}: one line\n${r.stderr}`);
    assert.match(r.stderr, /^vpsline: /);
  }
  if (expect) assert.match(r.code === 0 ? r.stdout : r.stderr, expect, what);
  if (process.env.VPSLINE_TEST_VERBOSE)
    console.log(`# ${what}: exit ${r.code}, ${r.ms.toFixed(0)} ms, ${r.peakMb.toFixed(0)} MB`);
  // Bounds that separate milliseconds from minutes and megabytes from gigabytes, not benchmarks.
  assert.ok(r.ms < 10_000, `${what}: ${r.ms.toFixed(0)} ms`);
  assert.ok(r.peakMb < 300, `${what}: peak ${r.peakMb.toFixed(0)} MB`);
}

const mtrLine = (n: number, host: string): string => `  ${n}.|-- ${host}   0.0%    10    1.0   1.0   1.0   1.0   0.0`;

test('empty, blank and binary input', async () => {
  assertClean(await classify(written('empty', '')), 'empty', /The trace is empty/);
  assertClean(await classify(written('blank', ' \n\t\n')), 'blank', /The trace is empty/);
  const binary = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256));
  assertClean(await classify(written('binary', binary)), 'binary', /binary data, not a trace/);
});

test('/dev/zero and 200 MB on standard input are cut at the stated limit', async () => {
  assertClean(await classify('/dev/zero'), '/dev/zero', /larger than 2 MB/);
  const r = await classify('-', (stdin) => {
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    let sent = 0;
    const more = (): void => {
      while (sent < 200) {
        sent++;
        if (!stdin.write(chunk)) return void stdin.once('drain', more);
      }
      stdin.end();
    };
    more();
  });
  assertClean(r, '200 MB on stdin', /standard input is larger than 2 MB/);
});

test('100,000 hop lines: refused with the limit named', async () => {
  const text = Array.from({ length: 100_000 }, (_, i) => `${(i % 255) + 1} *`).join('\n');
  assertClean(await classify(written('hops', text)), '100,000 hops', /more than 4096 hop lines/);
});

test('a 250 KB line, alone and inside a real report', async () => {
  const long = `  1.|-- ${'a '.repeat(125_000)} 0.0%`;
  assertClean(await classify(written('long', long)), '250 KB line');
  const report = ['HOST: vm   Loss%   Snt   Last   Avg  Best  Wrst StDev', mtrLine(1, '10.0.0.1'), long];
  report.push(mtrLine(2, '203.0.113.9'), mtrLine(3, '59.43.246.1'), mtrLine(4, '59.43.180.9'));
  assertClean(await classify(written('long-report', report.join('\n'))), '250 KB line in a report', /cn2-gia/);
  const digits = `${'9.'.repeat(125_000)}`;
  assertClean(await classify(written('digits', digits)), '250 KB of "9."');
});

test('invalid UTF-8 around a real report still gives its verdict', async () => {
  const lines = [mtrLine(1, '10.0.0.1'), mtrLine(2, '203.0.113.9'), mtrLine(3, '59.43.246.1')];
  lines.push(mtrLine(4, '59.43.180.9'), mtrLine(5, '101.95.1.1'));
  const text = Buffer.concat([Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x0a]), Buffer.from(lines.join('\n'))]);
  assertClean(await classify(written('utf8', text)), 'invalid UTF-8', /cn2-gia/);
});

test('JSON nested 100,000 deep, and JSON of the wrong types', async () => {
  const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
  assertClean(await classify(written('deep.json', deep)), 'nested JSON');
  const deepObject = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
  assertClean(await classify(written('deep-object.json', deepObject)), 'nested JSON objects');
  for (const [name, doc] of [
    ['hubs-string', { report: { hubs: 'x' } }],
    ['hubs-numbers', { report: { hubs: [1, 2, 3] } }],
    ['hops-null', { Hops: null }],
    ['trippy-wrong', { info: 1, hops: 'x' }],
    ['number', 5],
  ] as const) {
    assertClean(await classify(written(`${name}.json`, JSON.stringify(doc))), name);
  }
});
