// `vpsline classify` as a user runs it: files in, a verdict out, in English or Chinese.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const bin = new URL('../../bin/vpsline.js', import.meta.url).pathname;
const fixture = (name: string): string => new URL(`./fixtures/${name}`, import.meta.url).pathname;
const classify = (...args: string[]) => spawnSync(process.execPath, [bin, 'classify', ...args], { encoding: 'utf8' });

test('the verdict, segments, evidence and notes, in English and in Chinese', () => {
  const en = classify(fixture('nexttrace-10099-4837.json'));
  assert.equal(en.status, 0, en.stderr);
  assert.match(en.stdout, /^Line: +China Unicom 4837 \(169\) \(cu-4837\), confidence high$/m);
  assert.match(en.stdout, /^ {2}hop 4 +43\.252\.86\.65 +cu-10099 AS10099$/m);
  assert.match(en.stdout, /^Note: The path enters through China Unicom Global \(AS10099\) and continues on 4837\.$/m);
  const zh = classify('--lang', 'zh', fixture('trippy-cn2-gia.json'));
  assert.equal(zh.status, 0, zh.stderr);
  assert.match(zh.stdout, /^线路： 电信 CN2 GIA \[精品线路\] \(cn2-gia\)/m);
  assert.match(zh.stdout, /^注意: 1 跳由多个地址回应/m);
  assert.match(zh.stdout, /\(识别为 trippy-json\)/);
  const bad = classify('--lang', 'fr', fixture('trippy-cn2-gia.json'));
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--lang must be en or zh/);
});
