import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { analyze, type FindingCode } from '../../src/trace/analysis.js';
import type { HopSnapshot } from '../../src/trace/hop.js';
import { LatencyAccumulator } from '../../src/trace/stats.js';

/** A hop: address (null = never answered), loss %, Best, Avg; 20 probes. */
function h(ttl: number, address: string | null, loss: number, best: number, avg = best + 0.5): HopSnapshot {
  const sent = 20;
  const lost = Math.round((sent * loss) / 100);
  const received = sent - lost;
  const stats = {
    received,
    last: avg,
    best: received ? best : 0,
    worst: avg + 1,
    mean: received ? avg : 0,
    stdev: 0.3,
    gmean: avg,
    jitter: 0,
    jitterMean: 0,
    jitterMax: 0,
    jitterInterarrival: 0,
  };
  return {
    ttl,
    address,
    responders: [],
    sent,
    received,
    lost,
    inFlight: 0,
    lossPercent: (100 * lost) / sent,
    stats,
    untimed: 0,
  };
}

/** A hop whose statistics come from these RTT samples (the real accumulator), none lost. */
function timed(ttl: number, address: string, samples: number[]): HopSnapshot {
  const acc = new LatencyAccumulator();
  for (const x of samples) acc.add(x);
  const stats = acc.snapshot();
  const n = samples.length;
  return {
    ttl,
    address,
    responders: [{ address, received: n, stats }],
    sent: n,
    received: n,
    lost: 0,
    inFlight: 0,
    lossPercent: 0,
    stats,
    untimed: 0,
  };
}

/** n RTTs spread evenly over mean +- half, in alternating order (a jittery link). */
function jittery(mean: number, half: number, n = 10): number[] {
  const even = Array.from({ length: n }, (_, i) => mean - half + (2 * half * i) / (n - 1));
  return even.map((_, i) => even[i % 2 ? n - 1 - (i >> 1) : i >> 1] ?? mean);
}

const steady = (ms: number): number[] => jittery(ms, 0.05);

function codes(hops: HopSnapshot[], destinationTtl: number | null = hops.length): FindingCode[] {
  return analyze({ hops, destinationTtl, protocol: 'icmp', target: '198.18.9.9' }).map((f) => f.code);
}

describe('analysis', () => {
  test('a clean path says so', () => {
    assert.deepEqual(codes([h(1, 'a', 0, 1), h(2, 'b', 0, 2), h(3, 'c', 0, 3)]), ['clean']);
  });

  test('loss at a middle hop that later hops do not show is rate limiting, not loss', () => {
    const f = analyze({
      hops: [h(1, 'a', 0, 1), h(2, 'b', 60, 2), h(3, 'c', 0, 3)],
      destinationTtl: 3,
      protocol: 'icmp',
      target: 't',
    });
    assert.deepEqual(
      f.map((x) => x.code),
      ['icmp-rate-limited', 'clean'],
    );
    assert.deepEqual(f[0]!.hops, [2, 3]);
    assert.match(f[0]!.message, /Hop 2 \(b\) shows 60% loss, but hop 3 after it shows 0%/);
  });

  test('rate limiting is only claimed with a later hop that shows less loss', () => {
    /** A hop with `sent` probes of which `lost` were lost. */
    const n = (ttl: number, sent: number, lost: number): HopSnapshot => {
      const x = h(ttl, `r${ttl}`, 0, ttl);
      return { ...x, sent, received: sent - lost, lost, lossPercent: (100 * lost) / sent };
    };
    // Found by the property test: hop 3 (as lossy as hop 2) was cited as the evidence.
    const f = analyze({
      hops: [n(1, 40, 0), n(2, 40, 12), n(3, 40, 12), n(4, 40, 3)],
      destinationTtl: 4,
      protocol: 'icmp',
      target: 't',
    });
    assert.deepEqual(f[0]?.code, 'icmp-rate-limited');
    assert.deepEqual(f[0]?.hops, [2, 4]);
    assert.match(f[0]?.message ?? '', /shows 30% loss, but hop 4 after it shows 7\.5%/);
    // 5% at hop 2 (2 of 40), 10% at the destination (1 of 10): no later hop with less loss, nothing claimed.
    const g = analyze({
      hops: [n(1, 40, 0), n(2, 40, 2), n(3, 10, 1)],
      destinationTtl: 3,
      protocol: 'icmp',
      target: 't',
    });
    assert.ok(!g.some((x) => x.code === 'icmp-rate-limited'), g.map((x) => x.message).join('\n'));
  });

  test('loss that later hops show less of only by chance is not called rate limiting', () => {
    const n = (ttl: number, sent: number, lost: number): HopSnapshot => {
      const x = h(ttl, `r${ttl}`, 0, ttl);
      return { ...x, sent, received: sent - lost, lost, lossPercent: (100 * lost) / sent };
    };
    // Seen in the lab: a 30 % link into hop 2 read over mtr's 10 probes as 4 lost, then 1 lost.
    const ten = analyze({
      hops: [n(1, 10, 0), n(2, 10, 4), n(3, 10, 1)],
      destinationTtl: 3,
      protocol: 'icmp',
      target: 't',
    });
    assert.ok(!ten.some((x) => x.code === 'icmp-rate-limited'), ten.map((x) => x.message).join('\n'));
    // The same shares over 100 probes are told apart.
    const hundred = analyze({
      hops: [n(1, 100, 0), n(2, 100, 40), n(3, 100, 10)],
      destinationTtl: 3,
      protocol: 'icmp',
      target: 't',
    });
    assert.deepEqual(hundred[0]?.code, 'icmp-rate-limited');
    assert.deepEqual(hundred[0]?.hops, [2, 3]);
  });

  test('a hop that never answers, while later hops do, disallows ping', () => {
    const f = analyze({
      hops: [h(1, 'a', 0, 1), h(2, null, 100, 0), h(3, 'c', 0, 3)],
      destinationTtl: 3,
      protocol: 'icmp',
      target: 't',
    });
    assert.deepEqual(
      f.map((x) => x.code),
      ['hop-ignores-icmp', 'clean'],
    );
    assert.deepEqual(f[0]!.hops, [2, 3]);
  });

  test('loss from one hop onward is path loss, starting there', () => {
    const f = analyze({
      hops: [h(1, 'a', 0, 1), h(2, 'b', 0, 2), h(3, 'c', 25, 3), h(4, 'd', 30, 4), h(5, 'e', 25, 5)],
      destinationTtl: 5,
      protocol: 'icmp',
      target: 't',
    });
    const loss = f.find((x) => x.code === 'path-loss')!;
    assert.deepEqual(loss.hops, [2, 3, 4, 5]);
    assert.equal(loss.params.ttl, 3);
    assert.equal(loss.severity, 'problem');
    assert.ok(!f.some((x) => x.code === 'clean'));
  });

  test('rate limiting before real loss is still told apart', () => {
    const c = codes([h(1, 'a', 0, 1), h(2, 'b', 70, 2), h(3, 'c', 0, 3), h(4, 'd', 20, 4), h(5, 'e', 20, 5)]);
    assert.deepEqual(c, ['icmp-rate-limited', 'path-loss']);
  });

  test('a lasting latency rise is a long link or congestion; a single slow hop is not', () => {
    const jump = analyze({
      hops: [h(1, 'a', 0, 1), h(2, 'b', 0, 2), h(3, 'c', 0, 150), h(4, 'd', 0, 151), h(5, 'e', 0, 152)],
      destinationTtl: 5,
      protocol: 'icmp',
      target: 't',
    });
    const j = jump.find((x) => x.code === 'latency-jump')!;
    assert.equal(j.params.ttl, 3);
    assert.equal(j.params.rise, 148);
    assert.deepEqual(j.hops, [2, 3, 4, 5]);
    assert.deepEqual(codes([h(1, 'a', 0, 1), h(2, 'b', 0, 2), h(3, 'c', 0, 40), h(4, 'd', 0, 3), h(5, 'e', 0, 4)]), [
      'slow-responder',
      'clean',
    ]);
  });

  test('a slow responder right before a real rise does not hide the rise', () => {
    const c = codes([h(1, 'a', 0, 1), h(2, 'b', 0, 60), h(3, 'c', 0, 30), h(4, 'd', 0, 31)]);
    assert.ok(c.includes('slow-responder') && c.includes('latency-jump'), c.join());
  });

  test('the destination: silent, or unreachable', () => {
    const silent = analyze({
      hops: [h(1, 'a', 0, 1), h(2, 'b', 0, 2), h(3, null, 100, 0)],
      destinationTtl: null,
      protocol: 'udp',
      target: '198.18.9.9',
    });
    const s = silent.find((x) => x.code === 'destination-silent')!;
    assert.match(
      s.message,
      /198\.18\.9\.9 did not answer \(it may drop UDP probes\); the last hop that answered is hop 2 \(b\)/,
    );
    const hop = h(2, 'b', 0, 2);
    hop.unreachable = 'host';
    const u = analyze({ hops: [h(1, 'a', 0, 1), hop], destinationTtl: null, protocol: 'icmp', target: 't' });
    assert.deepEqual(
      u.map((x) => x.code),
      ['destination-unreachable'],
    );
  });

  test('a silent destination after a lossy last answering hop is reported, not a crash', () => {
    // Nothing answers after hop 3, so its loss cannot be compared with a later
    // hop: no loss finding about it, only the silent destination.
    for (const tail of [[h(4, null, 100, 0)], []]) {
      const f = analyze({
        hops: [h(1, 'a', 0, 1), h(2, 'b', 0, 2), h(3, 'c', 30, 3), ...tail],
        destinationTtl: null,
        protocol: 'icmp',
        target: '198.18.9.9',
      });
      assert.deepEqual(
        f.map((x) => x.code),
        ['destination-silent'],
      );
      assert.deepEqual(f[0]!.hops, [3, ...tail.map((x) => x.ttl)]);
      assert.match(f[0]!.message, /198\.18\.9\.9 did not answer .*the last hop that answered is hop 3 \(c\)/);
      // The loss the table shows is named, with why nothing more can be said.
      assert.match(f[0]!.message, /with 30% loss that no later hop can confirm or rule out as loss on the path/);
    }
  });

  test('only the destination silent: every router answers, the report says the target did not', () => {
    const f = analyze({
      hops: [h(1, 'a', 0, 1), h(2, 'b', 0, 2), h(3, 'c', 0, 3), h(4, null, 100, 0)],
      destinationTtl: null,
      protocol: 'icmp',
      target: '198.18.9.9',
    });
    assert.deepEqual(
      f.map((x) => x.code),
      ['destination-silent'],
    );
    assert.deepEqual(f[0]!.hops, [3, 4]);
    assert.equal(f[0]!.severity, 'warning');
    assert.match(
      f[0]!.message,
      /did not answer \(it may drop ICMP probes\); the last hop that answered is hop 3 \(c\)\.$/,
    );
  });

  test('nothing answers at all: the destination did not, nor did any hop (no "hop 0")', () => {
    for (const hops of [[h(1, null, 100, 0)], [h(3, null, 100, 0), h(4, null, 100, 0), h(5, null, 100, 0)]]) {
      const f = analyze({ hops, destinationTtl: null, protocol: 'udp', target: '198.18.9.9' });
      assert.deepEqual(
        f.map((x) => x.code),
        ['destination-silent'],
      );
      assert.deepEqual(
        f[0]!.hops,
        hops.map((x) => x.ttl),
      );
      assert.equal(
        f[0]!.message,
        'The destination 198.18.9.9 did not answer, and neither did any hop on the way ' +
          '(UDP probes may be blocked near this machine).',
      );
      assert.doesNotMatch(f[0]!.message, /hop 0|\?\?\?/);
      const zh = analyze({ hops, destinationTtl: null, protocol: 'udp', target: '198.18.9.9' }, 'zh');
      assert.equal(
        zh[0]!.message,
        '目标 198.18.9.9 没有回应，沿途也没有任何一跳回应（UDP 探测包可能在本机附近被拦截）。',
      );
    }
  });

  test('nothing settled yet (a live view before the first answer): no findings', () => {
    const hop = h(1, null, 0, 0);
    hop.received = 0;
    hop.lost = 0;
    hop.inFlight = 20;
    hop.lossPercent = 0;
    assert.deepEqual(analyze({ hops: [hop], destinationTtl: null, protocol: 'icmp', target: 't' }), []);
  });

  test('path loss before a silent destination lasts to the last hop that answered, not "the destination"', () => {
    const f = analyze({
      hops: [h(1, 'a', 0, 1), h(2, 'b', 0, 2), h(3, 'c', 30, 3), h(4, 'd', 30, 4), h(5, null, 100, 0)],
      destinationTtl: null,
      protocol: 'icmp',
      target: 't',
    });
    assert.deepEqual(
      f.map((x) => x.code),
      ['path-loss', 'destination-silent'],
    );
    assert.match(f[0]!.message, /Loss starts at hop 3 \(c, 30%\) and lasts to hop 4, the last that answered \(30%\)/);
    assert.deepEqual(f[0]!.hops, [2, 3, 4]);
    assert.deepEqual(f[1]!.hops, [4, 5]);
  });

  test('a path still answering at the largest TTL was cut short (-m), said as such', () => {
    const hops = [h(1, 'a', 0, 1), h(2, 'b', 0, 2), h(3, 'c', 0, 3)];
    const f = analyze({ hops, destinationTtl: null, protocol: 'icmp', target: 't', maxTtl: 3 });
    assert.deepEqual(
      f.map((x) => x.code),
      ['destination-silent'],
    );
    assert.equal(
      f[0]!.message,
      'The destination t did not answer within 3 hops: hop 3 (c) still answers, so the path is longer (raise -m).',
    );
  });

  describe('jitter', () => {
    // Hops 1-2 steady at 1 ms; from hop 3 on, a 40 +- 30 ms link.
    const link = (mean: number, half: number): HopSnapshot[] => [
      timed(1, 'a', steady(1)),
      timed(2, 'b', steady(1.2)),
      timed(3, 'c', jittery(mean, half)),
      timed(4, 'd', jittery(mean + 0.5, half)),
      timed(5, 'e', jittery(mean + 1, half)),
    ];
    const run = (hops: HopSnapshot[], lang: 'en' | 'zh' = 'en') =>
      analyze({ hops, destinationTtl: hops.at(-1)?.ttl ?? null, protocol: 'icmp', target: 't' }, lang);

    test('a 40 +- 30 ms link is jitter from the hop it reaches, not "latency rises by 11 ms"', () => {
      const hops = link(40, 30);
      // The floor does step by more than the old thresholds (5 ms and a quarter): only the spread rules it out.
      const rise = hops[2]!.stats.best - hops[1]!.stats.best;
      assert.ok(rise >= 5 && rise >= 0.25 * hops[1]!.stats.best, `rise ${rise}`);
      const f = run(hops);
      assert.deepEqual(
        f.map((x) => x.code),
        ['jitter'],
      );
      assert.deepEqual(f[0]!.hops, [2, 3, 4, 5]);
      assert.equal(f[0]!.severity, 'warning');
      assert.equal(f[0]!.params.ttl, 3);
      assert.equal(f[0]!.params.prev, 2);
      assert.equal(
        f[0]!.message,
        'Latency varies by ±20.2 ms (StDev) at hop 3 (c) and stays that unsteady up to hop 5 (±20.2 ms); ' +
          'hop 2 before it varies by ±0 ms: the link into hop 3 is congested or unsteady (jitter); ' +
          'single RTTs through it say little.',
      );
    });

    test('a long link with jitter on top is both a rise and jitter', () => {
      const c = run(link(150, 30)).map((x) => x.code);
      assert.deepEqual(c, ['latency-jump', 'jitter']);
    });

    test('a long steady link is a rise and no jitter', () => {
      const f = run(link(150, 2));
      assert.deepEqual(
        f.map((x) => x.code),
        ['latency-jump'],
      );
      assert.equal(f[0]!.params.ttl, 3);
    });

    test('one unsteady router in the middle (its own ICMP replies) is not jitter on the path', () => {
      const hops = [
        timed(1, 'a', steady(1)),
        timed(2, 'b', jittery(30, 25)),
        timed(3, 'c', steady(3)),
        timed(4, 'd', steady(4)),
      ];
      assert.ok(!run(hops).some((x) => x.code === 'jitter'));
    });

    test('jitter alone does not make a hop a slow responder', () => {
      // Hop 3's Best is a high draw of the jittery link; hop 4's a low one.
      const hops = [timed(1, 'a', steady(1)), timed(2, 'b', [12, 40, 70, 25, 55]), timed(3, 'c', [5, 60, 30, 45, 70])];
      const c = run(hops).map((x) => x.code);
      assert.ok(!c.includes('slow-responder'), c.join());
      assert.ok(c.includes('jitter'), c.join());
    });

    test('in Simplified Chinese', () => {
      const f = run(link(40, 30), 'zh');
      assert.match(
        f[0]!.message,
        /^第 3 跳（c）延迟抖动大（标准差 ±20\.2 ms），并一直持续到第 5 跳（±20\.2 ms）；其前的第 2 跳为 ±0 ms：进入第 3 跳的链路拥塞或不稳定/,
      );
    });
  });

  test('in Simplified Chinese', () => {
    const f = analyze(
      {
        hops: [h(1, 'a', 0, 1), h(2, null, 100, 0), h(3, 'c', 0, 3)],
        destinationTtl: 3,
        protocol: 'icmp',
        target: 't',
      },
      'zh',
    );
    assert.equal(
      f[0]!.message,
      '第 2 跳始终没有回应，但其后的第 3 跳有回应：该路由器不回应 ICMP（禁 ping），并非丢包。',
    );
    assert.equal(f[1]!.message, '线路没有丢包，也没有持续的延迟上升。');
  });
});
