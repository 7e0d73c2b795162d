// The classifier judged on traces that VPS reviewers published (test/fixtures/traces),
// against the line each author named: the agreement and the confusion table are
// printed, the test fails below 95 %, and the README must show the same table.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { importTrace } from '../../src/route/import.js';
import { judgeCorpus, summarise, VERDICTS } from '../support/corpus-judge.js';
import { readCorpus } from '../support/trace-corpus.js';

const REQUIRED = ['source', 'date', 'tool', 'direction', 'from', 'to', 'author-words', 'author-label'];

test('every corpus file has its provenance and a label from the vocabulary (or "none")', () => {
  const corpus = readCorpus();
  assert.ok(corpus.length >= 40, `${corpus.length} traces`);
  for (const t of corpus) {
    for (const key of REQUIRED) assert.ok(t.header[key], `${t.file}: no ${key}`);
    assert.match(t.header.source ?? '', /^https?:\/\/\S+$/, `${t.file}: the source is a URL`);
    assert.match(t.header.date ?? '', /^\d{4}-\d{2}(-\d{2})?$/, `${t.file}: date`);
    assert.ok(['vps-to-china', 'china-to-vps', 'other'].includes(t.direction), `${t.file}: direction`);
    if (t.label !== 'none')
      for (const l of t.label.split('|')) assert.ok((VERDICTS as readonly string[]).includes(l), `${t.file}: ${l}`);
    else assert.ok(t.header['label-note'], `${t.file}: an unlabelled trace says why`);
    assert.ok(t.text.trim().length > 0, `${t.file}: no trace`);
  }
});

test('every published trace is read, each well within a second', () => {
  for (const t of readCorpus()) {
    const start = performance.now();
    const imported = importTrace(t.text);
    assert.ok(imported.hops.length > 0, `${t.file}: no hops read`);
    assert.ok(performance.now() - start < 1000, `${t.file} took ${performance.now() - start} ms`);
  }
});

test('agreement with the authors is at least 95 %, and the README shows this table', async (t) => {
  const judged = await judgeCorpus();
  const { agree, labelled, table } = summarise(judged);
  t.diagnostic(`\n${table}`);
  t.diagnostic(`${agree} of ${labelled} labelled traces agree (${((100 * agree) / labelled).toFixed(1)} %)`);
  for (const j of judged.filter((x) => x.allowed.length && !x.agrees))
    t.diagnostic(`disagrees: ${j.trace.file}: author ${j.trace.label}, vpsline ${j.classification.verdict}`);
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  assert.ok(readme.includes(table), 'README.md shows the table `npm run corpus` prints');
  for (const j of judged.filter((x) => x.allowed.length && !x.agrees))
    assert.ok(
      readme.includes(j.trace.file.replace(/\.txt$/, '')),
      `README.md explains the disagreement on ${j.trace.file}`,
    );
  assert.ok(agree / labelled >= 0.95, `${agree}/${labelled} agree`);
});
