// `... | vpsline classify`: standard input is a pipe that may stay empty for a
// while (mtr is still running). Reading it must wait, not fail with EAGAIN;
// and input too large to be a trace is refused, not buffered.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

const bin = new URL('../../bin/vpsline.js', import.meta.url).pathname;
const fixture = readFileSync(new URL('../route/fixtures/trippy-cn2-gia.json', import.meta.url));

function classify(feed: (stdin: NodeJS.WritableStream) => void): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, 'classify', '--json'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.stdin.on('error', () => {}); // the refusal may close the pipe while we still write
    child.on('close', (code) => resolve({ code, out }));
    feed(child.stdin);
  });
}

describe('vpsline classify from standard input', () => {
  it('waits for a slow pipe', async () => {
    const r = await classify((stdin) => {
      setTimeout(() => stdin.write(fixture.subarray(0, 100)), 300);
      setTimeout(() => stdin.end(fixture.subarray(100)), 700);
    });
    assert.equal(r.code, 0, r.out);
    assert.equal(JSON.parse(r.out).verdict, 'cn2-gia');
  });

  it('refuses input larger than any trace, with one line', async () => {
    const r = await classify((stdin) => {
      const mb = Buffer.alloc(1024 * 1024, 0x20);
      let sent = 0;
      const more = (): void => {
        while (sent < 20) {
          sent++;
          if (!stdin.write(mb)) return void stdin.once('drain', more);
        }
        stdin.end();
      };
      more();
    });
    assert.equal(r.code, 2, r.out);
    assert.equal(r.out, 'vpsline: standard input is larger than 2 MB: that is not one trace (paste one).\n');
  });
});
