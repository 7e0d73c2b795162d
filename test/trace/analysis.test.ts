import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { analyze, type FindingCode } from '../../src/trace/analysis.js';
import type { HopSnapshot } from '../../src/trace/hop.js';

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
      assert.deepEqual(f[0]!.hops, [3]);
      assert.match(f[0]!.message, /198\.18\.9\.9 did not answer .*the last hop that answered is hop 3 \(c\)/);
    }
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
