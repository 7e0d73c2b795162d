// The refusal texts: every code has words in English and Chinese that quote
// the same figures, and a refusal quoted inside another reads as one sentence.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REFUSAL_CODES, refusalText } from '../../src/server/refusals.js';

/** Parameters that name themselves, so a text shows which figures it quotes. */
const named = new Proxy({}, { get: (_t, key) => (typeof key === 'string' ? `«${key}»` : undefined) });
const quoted = (text: string): string[] => [...text.matchAll(/«(\w+)»/g)].map((m) => m[1]!).sort();

// Fastify's own English explanation is quoted in English only; the Chinese says what it means.
const ENGLISH_DETAIL_ONLY = new Set(['too-large']);

test('every code: English and Chinese words quoting the same figures', () => {
  assert.ok(REFUSAL_CODES.length >= 40, `${REFUSAL_CODES.length} codes`);
  for (const code of REFUSAL_CODES) {
    // Codes that quote another refusal get one (the others ignore it).
    const because = { code: 'self-only' } as const;
    const en = refusalText({ code, params: named, because }, 'en');
    const zh = refusalText({ code, params: named, because }, 'zh');
    assert.ok(en.length > 5 && !/undefined/.test(en), `${code}: ${en}`);
    assert.match(zh, /[\u4e00-\u9fff]/, `${code} has Chinese words: ${zh}`);
    if (!ENGLISH_DETAIL_ONLY.has(code)) assert.deepEqual(quoted(zh), quoted(en), code);
  }
});

test('a refusal inside another: one sentence, one full stop, in both languages', () => {
  const inner = { code: 'target-special', params: { address: '127.0.0.1', space: 'loopback' } } as const;
  const outer = {
    code: 'target-embedded-refused',
    params: { address: '::127.0.0.1', form: 'IPv4-compatible', v4: '127.0.0.1' },
    because: inner,
  } as const;
  assert.equal(
    refusalText(outer, 'en'),
    '::127.0.0.1 is the IPv4-compatible form of 127.0.0.1, and 127.0.0.1 is loopback address space.',
  );
  assert.equal(
    refusalText(outer, 'zh'),
    '::127.0.0.1 是 127.0.0.1 的 IPv4-compatible 形式，而127.0.0.1 属于环回地址段。',
  );
  const named2 = {
    code: 'target-name-refused',
    params: { name: 'a.example', address: '10.0.0.1' },
    because: {
      code: 'target-special',
      params: { address: '10.0.0.1', space: 'private' },
    },
  } as const;
  assert.equal(
    refusalText(named2, 'en'),
    'a.example resolves to 10.0.0.1, which is refused: 10.0.0.1 is private address space.',
  );
});
