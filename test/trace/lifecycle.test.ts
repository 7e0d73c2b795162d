// A trace stopped before start() has resolved its target and opened its
// sockets ends with a clear error and sends nothing; it used to throw a
// TypeError from inside stop() (the report needs the probe mode).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVpslineError } from '../../src/errors.js';
import { ProbeEngine } from '../../src/probe/engine.js';
import { Trace } from '../../src/trace/trace.js';

const stoppedEarly = (err: unknown): boolean => isVpslineError(err) && err.code === 'EVPSLINE_STOPPED';

describe('Trace lifecycle', () => {
  it('stop() before start(): done rejects with EVPSLINE_STOPPED', async () => {
    const t = new Trace('127.0.0.1', { engine: new ProbeEngine(), protocol: 'udp', cycles: 1 });
    t.stop();
    await assert.rejects(t.done, stoppedEarly);
  });

  it('stop() while start() resolves: nothing is sent, done rejects', async () => {
    const engine = new ProbeEngine();
    const t = new Trace('localhost', { engine, protocol: 'udp', cycles: 1, family: 4 });
    let sent = 0;
    t.on('sent', () => sent++);
    const started = t.start();
    t.stop();
    await assert.rejects(t.done, stoppedEarly);
    await started;
    assert.equal(sent, 0);
    assert.equal(engine.counters.sent, 0);
  });
});
