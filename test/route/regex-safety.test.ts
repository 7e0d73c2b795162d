// Every regular expression in src/ is checked for catastrophic backtracking
// with recheck (ReDoS analysis): pasted text reaches many of them, and one
// backtracking pattern in the old mtr-report reader took 80 s on a 250 KB line.
// A positive control shows the checker finds that pattern.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkSync } from 'recheck';
import ts from 'typescript';

const SRC = new URL('../../src/', import.meta.url).pathname;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every regular expression literal in a file, as pattern and flags. */
function regexLiterals(file: string): { pattern: string; flags: string; where: string }[] {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: { pattern: string; flags: string; where: string }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isRegularExpressionLiteral(node)) {
      const literal = node.text;
      const end = literal.lastIndexOf('/');
      const { line } = sf.getLineAndCharacterOfPosition(node.getStart());
      found.push({
        pattern: literal.slice(1, end),
        flags: literal.slice(end + 1),
        where: `${file.slice(SRC.length)}:${line + 1}`,
      });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

test('no regular expression in src/ can backtrack catastrophically (recheck)', () => {
  const all = sourceFiles(SRC).flatMap(regexLiterals);
  assert.ok(all.length > 40, `${all.length} expressions found`);
  const unsafe = all
    .map((r) => ({ ...r, status: checkSync(r.pattern, r.flags, { timeout: 10_000 }).status }))
    .filter((r) => r.status !== 'safe');
  assert.deepEqual(
    unsafe.map((r) => `${r.where} /${r.pattern}/ ${r.status}`),
    [],
  );
});

test('positive control: the old mtr-report pattern is found vulnerable', () => {
  const old = String.raw`^\s*(\d+)\.(?:\|--|\s+AS(\S+))\s+(.*?)\s+\d+\.\d+%?\s+\d+\s`;
  assert.equal(checkSync(old, '').status, 'vulnerable');
});
