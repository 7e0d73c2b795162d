// The two directions of one line side by side (src/route/directions.ts): the
// visitor's uploaded trace to the server and the server's trace back. Hops are
// paired by the same address, else the same /24 or /48, keeping both paths in
// order (forward ascending against return descending), and each asymmetry note
// appears exactly when its condition holds, in English and in Chinese.
// Addresses are from the benchmarking ranges (198.18.0.0/15, 2001:2::/48).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type AsymmetryCode,
  type Comparison,
  compareDirections,
  type Direction,
  type DirectionHop,
  networkOf,
  pairHops,
} from '../../src/route/directions.js';

const hop = (ttl: number, address: string | null, carrier: string | null = null, lossPercent: number | null = 0) =>
  ({ ttl, address, carrier, lossPercent }) satisfies DirectionHop;
const pairsOf = (forward: DirectionHop[], reverse: DirectionHop[]) =>
  pairHops(forward, reverse).map((p) => [p.forwardTtl, p.reverseTtl, p.by]);
const codes = (c: Comparison): AsymmetryCode[] => c.notes.map((n) => n.code);
const notesWith = (c: Comparison, code: AsymmetryCode) => c.notes.filter((n) => n.code === code);
const CJK = /[\u4e00-\u9fff]/;

/** Every note has words in both languages, and the Chinese ones are Chinese. */
function assertBilingual(c: Comparison): void {
  for (const n of c.notes) {
    assert.ok(n.text.en.length > 0, `English words for ${n.code}`);
    assert.ok(n.text.zh.length > 0, `Chinese words for ${n.code}`);
    assert.match(n.text.zh, CJK, `CJK in the Chinese words for ${n.code}: ${n.text.zh}`);
    assert.doesNotMatch(n.text.en, /undefined|NaN/, n.text.en);
    assert.doesNotMatch(n.text.zh, /undefined|NaN/, n.text.zh);
  }
}

describe('networkOf', () => {
  test('an IPv4 address is in its /24, an IPv6 address in its /48', () => {
    assert.equal(networkOf('198.18.1.1'), networkOf('198.18.1.254'));
    assert.notEqual(networkOf('198.18.1.1'), networkOf('198.18.2.1'));
    assert.equal(networkOf('2001:2::1'), networkOf('2001:2:0:ffff::9'));
    assert.notEqual(networkOf('2001:2::1'), networkOf('2001:2:1::1'));
    assert.notEqual(networkOf('198.18.1.1'), networkOf('2001:2::1'), 'the families never share a network');
    assert.equal(networkOf('::ffff:198.18.1.1'), networkOf('198.18.1.9'), 'IPv4-mapped reads as IPv4');
  });

  test('what is not an address has no network', () => {
    assert.equal(networkOf('gw.lab.example'), null);
    assert.equal(networkOf(''), null);
    assert.equal(networkOf('198.18.1.1.1'), null);
  });
});

describe('pairHops', () => {
  test('the same address pairs, wherever it stands on the way back', () => {
    const forward = [hop(1, '198.18.9.1'), hop(2, '198.18.1.1'), hop(3, '198.18.2.1')];
    const reverse = [hop(1, '198.18.2.1'), hop(2, '198.18.5.5'), hop(3, '198.18.1.1'), hop(4, '198.18.9.1')];
    assert.deepEqual(pairsOf(forward, reverse), [
      [1, 4, 'address'],
      [2, 3, 'address'],
      [3, 1, 'address'],
    ]);
  });

  test('without the same address, the same /24 pairs (by network)', () => {
    // Routers answer from another interface each way: 198.18.1.1 there, 198.18.1.2 back.
    const forward = [hop(1, '198.18.1.1'), hop(2, '198.18.3.1')];
    const reverse = [hop(1, '198.18.3.77'), hop(2, '198.18.1.2')];
    assert.deepEqual(pairsOf(forward, reverse), [
      [1, 2, 'network'],
      [2, 1, 'network'],
    ]);
    // Another /24 of the same /16 is not the same network.
    assert.deepEqual(pairsOf([hop(1, '198.18.1.1')], [hop(1, '198.18.2.1')]), []);
  });

  test('IPv6: the same /48 pairs, another /48 does not', () => {
    const forward = [hop(1, '2001:2:0:1::1'), hop(2, '2001:2:1::1')];
    const reverse = [hop(1, '2001:2:1:ffff::2'), hop(2, '2001:2:0:2::1')];
    assert.deepEqual(pairsOf(forward, reverse), [
      [1, 2, 'network'],
      [2, 1, 'network'],
    ]);
    assert.deepEqual(pairsOf([hop(1, '2001:2::1')], [hop(1, '2001:2:1::1')]), []);
  });

  test('the same address is preferred to a hop of the same network nearer the visitor', () => {
    // 198.18.1.9 (return TTL 3) is nearer the visitor, but 198.18.1.1 itself answered at TTL 2.
    const forward = [hop(1, '198.18.1.1')];
    const reverse = [hop(1, '198.18.7.1'), hop(2, '198.18.1.1'), hop(3, '198.18.1.9')];
    assert.deepEqual(pairsOf(forward, reverse), [[1, 2, 'address']]);
  });

  test('of several return hops in the same network, the one nearest the visitor pairs', () => {
    // 198.18.1.7 (return TTL 3) and 198.18.1.9 (TTL 2) are both in 198.18.1.0/24: the forward path
    // starts at the visitor, so its first hop takes TTL 3, the one nearest the visitor.
    const forward = [hop(1, '198.18.1.1'), hop(2, '198.18.2.1')];
    const reverse = [hop(1, '198.18.2.9'), hop(2, '198.18.1.9'), hop(3, '198.18.1.7')];
    assert.deepEqual(pairsOf(forward, reverse), [
      [1, 3, 'network'],
      [2, 1, 'network'],
    ]);
  });

  test('order is kept: forward ascending pairs with return descending, a crossing pair is dropped', () => {
    // 198.18.2.1 is met after 198.18.1.1 going out, but also after it coming back: pairing both would
    // cross (forward 1 -> return 1, forward 2 -> return 2), so only the first is kept.
    const forward = [hop(1, '198.18.1.1'), hop(2, '198.18.2.1')];
    const reverse = [hop(1, '198.18.1.1'), hop(2, '198.18.2.1')];
    assert.deepEqual(pairsOf(forward, reverse), [[1, 1, 'address']]);
    // Given in any order, the hops are taken by TTL.
    const shuffled = [hop(3, '198.18.3.1'), hop(1, '198.18.1.1'), hop(2, '198.18.2.1')];
    const back = [hop(2, '198.18.2.1'), hop(3, '198.18.1.1'), hop(1, '198.18.3.1')];
    assert.deepEqual(pairsOf(shuffled, back), [
      [1, 3, 'address'],
      [2, 2, 'address'],
      [3, 1, 'address'],
    ]);
    // Every result, in any case, keeps both paths in order.
    const pairs = pairHops(shuffled, back);
    for (let i = 1; i < pairs.length; i++) {
      assert.ok(pairs[i]!.forwardTtl > pairs[i - 1]!.forwardTtl);
      assert.ok(pairs[i]!.reverseTtl < pairs[i - 1]!.reverseTtl);
    }
  });

  test('no match, no pair: silent hops, names and other networks stay unpaired', () => {
    const forward = [hop(1, null), hop(2, '198.18.1.1'), hop(3, 'gw.lab.example'), hop(4, '198.18.4.1')];
    const reverse = [hop(1, null), hop(2, '198.19.1.1'), hop(3, 'gw2.lab.example'), hop(4, '198.18.5.1')];
    assert.deepEqual(pairsOf(forward, reverse), []);
    assert.deepEqual(pairsOf([], reverse), []);
    assert.deepEqual(pairsOf(forward, []), []);
    assert.deepEqual(pairsOf([hop(1, null)], [hop(1, null)]), [], 'two silent hops are not a pair');
  });
});

describe('compareDirections: the notes', () => {
  const path = (verdict: string, ...hops: DirectionHop[]): Direction => ({ verdict, hops });

  test('the same verdict both ways: same-line, naming it, and nothing else when nothing differs', () => {
    const c = compareDirections(
      path('cn2-gia', hop(1, '198.18.1.1', 'CN2'), hop(2, '198.18.2.1', null, 0)),
      path('cn2-gia', hop(1, '198.18.2.1', null, 0), hop(2, '198.18.1.1', 'CN2')),
    );
    assert.deepEqual(codes(c), ['same-line']);
    const [same] = c.notes;
    assert.match(same!.text.en, /CN2 GIA/);
    assert.match(same!.text.zh, /CN2 GIA/);
    assert.deepEqual(
      c.pairs.map((p) => [p.forwardTtl, p.reverseTtl]),
      [
        [1, 2],
        [2, 1],
      ],
    );
    assertBilingual(c);
  });

  test('different verdicts: different-lines with both lines named, each in its place', () => {
    const c = compareDirections(path('cn2-gia', hop(1, '198.18.1.1')), path('chinanet-163', hop(1, '198.18.1.1')));
    assert.deepEqual(codes(c), ['different-lines']);
    const n = c.notes[0]!;
    assert.equal(n.params.forward, 'CN2 GIA');
    assert.equal(n.params.reverse, 'ChinaNet 163');
    assert.ok(n.text.en.indexOf('CN2 GIA') < n.text.en.indexOf('ChinaNet 163'), n.text.en);
    assert.match(n.text.en, /CN2 GIA to the server, ChinaNet 163 back/);
    assert.match(n.text.zh, /去程 电信 CN2 GIA/);
    assert.match(n.text.zh, /回程 电信 163/);
    assertBilingual(c);
  });

  test('a carrier seen one way only: carriers-one-way naming it and the direction', () => {
    const forward = path('cn2-gia', hop(1, '198.18.1.1', 'CN2'), hop(2, '198.18.2.1', '163'));
    const reverse = path('cn2-gia', hop(1, '198.18.2.2', '163'), hop(2, '198.18.3.1', null));
    const c = compareDirections(forward, reverse);
    assert.deepEqual(codes(c), ['same-line', 'carriers-one-way']);
    const [one] = notesWith(c, 'carriers-one-way');
    assert.equal(one!.params.carriers, 'CN2', 'the one seen both ways (163) is not named');
    assert.equal(one!.params.direction, 'forward');
    assert.match(one!.text.en, /^CN2 only on the way to the server/);
    assert.match(one!.text.zh, /^CN2 只出现在去程/);
    // The other way round: named for the return direction.
    const back = compareDirections(reverse, forward);
    const [other] = notesWith(back, 'carriers-one-way');
    assert.equal(other!.params.direction, 'reverse');
    assert.match(other!.text.en, /^CN2 only on the way back to the visitor/);
    assert.match(other!.text.zh, /回程/);
    assertBilingual(c);
    assertBilingual(back);
  });

  test('carriers each way only: one note per direction; the same carriers both ways: none', () => {
    const c = compareDirections(
      path('other', hop(1, '198.18.1.1', 'CN2'), hop(2, '198.18.2.1', 'CMI')),
      path('other', hop(1, '198.18.3.1', '4837')),
    );
    const notes = notesWith(c, 'carriers-one-way');
    assert.deepEqual(
      notes.map((n) => [n.params.direction, n.params.carriers]),
      [
        ['forward', 'CN2, CMI'],
        ['reverse', '4837'],
      ],
    );
    const same = compareDirections(
      path('other', hop(1, '198.18.1.1', 'CN2'), hop(2, '198.18.1.2', 'CN2')),
      path('other', hop(1, '198.18.9.1', 'CN2')),
    );
    assert.deepEqual(notesWith(same, 'carriers-one-way'), []);
    assertBilingual(c);
  });

  test('loss at the last hop over 2 % one way and under 0.5 % the other: loss-one-way', () => {
    const withLoss = (forwardLoss: number | null, reverseLoss: number | null) =>
      compareDirections(
        path('cn2-gia', hop(1, '198.18.1.1', null, 50), hop(2, '198.18.9.9', null, forwardLoss)),
        path('cn2-gia', hop(1, '198.18.9.9', null, 0), hop(2, '198.18.1.1', null, reverseLoss)),
      );
    const c = withLoss(12.34, 0);
    assert.deepEqual(codes(c), ['same-line', 'loss-one-way']);
    const n = notesWith(c, 'loss-one-way')[0]!;
    assert.equal(n.params.direction, 'forward');
    assert.equal(n.params.loss, '12.3');
    assert.match(n.text.en, /only to the server \(uploaded\) \(12\.3 %\)/);
    assert.match(n.text.zh, /去程.*12\.3%/);
    assertBilingual(c);
    const back = notesWith(withLoss(0.4, 2.1), 'loss-one-way');
    assert.deepEqual(
      back.map((x) => [x.params.direction, x.params.loss]),
      [['reverse', '2.1']],
    );
    assert.match(back[0]!.text.zh, /回程/);
    // The bounds: 2 % is not "some", 0.5 % is not "none"; loss both ways is not one way.
    assert.deepEqual(notesWith(withLoss(2, 0), 'loss-one-way'), []);
    assert.deepEqual(notesWith(withLoss(10, 0.5), 'loss-one-way'), []);
    assert.deepEqual(notesWith(withLoss(10, 5), 'loss-one-way'), []);
    // Loss on an earlier hop (50 % at forward TTL 1) is not loss at the far end.
    assert.deepEqual(notesWith(withLoss(0, 0), 'loss-one-way'), []);
  });

  test('loss not known on one side (a hop without figures): no loss note', () => {
    const c = compareDirections(
      path('cn2-gia', hop(1, '198.18.1.1'), hop(2, '198.18.9.9', null, null)),
      path('cn2-gia', hop(1, '198.18.9.9', null, 0), hop(2, '198.18.1.1', null, 0)),
    );
    assert.deepEqual(codes(c), ['same-line']);
    const other = compareDirections(
      path('cn2-gia', hop(1, '198.18.9.9', null, 40)),
      path('cn2-gia', hop(1, '198.18.1.1', null, null)),
    );
    assert.deepEqual(codes(other), ['same-line']);
    assert.deepEqual(codes(compareDirections(path('other'), path('other'))), ['same-line'], 'no hops at all');
  });

  test('the last hop is the highest TTL, whatever the order the hops come in', () => {
    const c = compareDirections(
      path('other', hop(3, '198.18.9.9', null, 20), hop(1, '198.18.1.1', null, 0)),
      path('other', hop(2, '198.18.1.1', null, 50), hop(1, '198.18.9.9', null, 0)),
    );
    // Forward's last is TTL 3 (20 %); return's last is TTL 2 (50 %): loss both ways, no note.
    assert.deepEqual(codes(c), ['same-line']);
  });

  test('everything at once: every code, each once, in a stable order', () => {
    const c = compareDirections(
      path('cn2-gia', hop(1, '198.18.1.1', 'CN2'), hop(2, '198.18.9.9', null, 8)),
      path('cmi', hop(1, '198.18.9.9', 'CMI', 0), hop(2, '198.18.1.7', null, 0)),
    );
    assert.deepEqual(codes(c), ['different-lines', 'carriers-one-way', 'carriers-one-way', 'loss-one-way']);
    assert.deepEqual(
      c.pairs.map((p) => [p.forwardTtl, p.reverseTtl, p.by]),
      [
        [1, 2, 'network'],
        [2, 1, 'address'],
      ],
    );
    assertBilingual(c);
  });
});
