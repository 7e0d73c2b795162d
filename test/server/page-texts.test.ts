// The page's words: every text exists in both languages, the Chinese is
// Chinese (bar names that are the same in both: ICMP, WinMTR, ...), and both
// languages fill in the same figures, so no "{hops}" is left on screen.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PAGE_TEXT } from '../../src/server/page-texts.js';

/** Texts that are names in both languages. */
const SAME_IN_BOTH = new Set(['#', 'ICMP', 'UDP', 'Linux', 'English', 'mtr JSON', 'vpsline JSON', 'WinMTR']);
const NAMES = /^(?:Windows tracert|traceroute|trippy JSON|NextTrace JSON)$/;

function leaves(value: unknown, path = ''): [string, string][] {
  if (typeof value === 'string') return [[path, value]];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => leaves(v, path ? `${path}.${k}` : k));
}

const figures = (s: string): string[] => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '').sort();

describe('the page texts', () => {
  const en = new Map(leaves(PAGE_TEXT.en));
  const zh = new Map(leaves(PAGE_TEXT.zh));

  test('the same texts in both languages, none empty', () => {
    assert.deepEqual([...zh.keys()].sort(), [...en.keys()].sort());
    for (const [key, text] of [...en, ...zh]) assert.ok(text.trim(), `${key} is empty`);
  });

  test('the Chinese texts are Chinese', () => {
    for (const [key, text] of zh)
      if (!SAME_IN_BOTH.has(text) && !NAMES.test(text))
        assert.match(text, /[\u4e00-\u9fff]/, `${key}: ${JSON.stringify(text)}`);
  });

  test('both languages fill in the same figures', () => {
    for (const [key, text] of en) assert.deepEqual(figures(zh.get(key) ?? ''), figures(text), key);
  });
});
