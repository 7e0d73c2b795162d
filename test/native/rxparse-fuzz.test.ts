// The receive path's control-message parser (native/rxparse.c) under
// AddressSanitizer and UBSan, built with Debian's clang:
// - real control buffers (the seed corpus, written by native/fuzz/make_seeds.c
//   from loopback traffic) and cut or malformed copies of them read as
//   expected, with no read outside the buffer (native/fuzz/rxparse_print.c);
// - libFuzzer finds nothing in 20 s (native/fuzz/rxparse_fuzz.c);
// - positive controls: copies of rxparse.c with one length check taken out
//   crash the same fuzzer within seconds, so the run above could fail.
// The seeds and the cut buffers assume a 64-bit little-endian machine.
// Needs clang and its libFuzzer runtime (Debian 12: clang libclang-rt-14-dev).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const root = new URL('../../', import.meta.url).pathname;
const native = join(root, 'native');
const corpus = join(native, 'fuzz', 'corpus');
const SANITIZE = ['-g', '-O1', '-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-Wall', '-Wextra'];
const FUZZ_SECONDS = 20;
const CONTROL_SECONDS = 30;

const skip =
  spawnSync('clang', ['--version']).status === 0
    ? false
    : 'clang is not installed: apt-get install clang libclang-rt-14-dev (Debian 12) to build the fuzzer';

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  seconds: number;
}

/** Runs a program to its end; stdout and stderr together. */
function run(cmd: string, args: string[], cwd: string, timeoutMs: number): Promise<Run> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => chunks.push(b));
    child.stderr.on('data', (b: Buffer) => chunks.push(b));
    child.on('error', reject);
    child.on('close', (status, signal) =>
      resolve({
        status,
        signal,
        output: Buffer.concat(chunks).toString(),
        seconds: (performance.now() - start) / 1000,
      }),
    );
  });
}

async function compile(out: string, sources: string[], flags: string[], cwd: string): Promise<string> {
  const r = await run('clang', [...flags, ...sources, '-o', out], cwd, 120_000);
  assert.equal(r.status, 0, `clang failed (is libclang-rt-14-dev installed?):\n${r.output}`);
  return out;
}

/** The tail of a libFuzzer log, enough to see what happened. */
const tail = (s: string) => s.split('\n').slice(-40).join('\n');

/** One control message inside a buffer, as struct cmsghdr lays it out on LP64 Linux. */
interface Cmsg {
  off: number;
  len: number;
  level: number;
  type: number;
}

function cmsgs(buf: Buffer): Cmsg[] {
  const out: Cmsg[] = [];
  for (let off = 0; off + 16 <= buf.length; ) {
    const len = Number(buf.readBigUInt64LE(off));
    out.push({ off, len, level: buf.readInt32LE(off + 8), type: buf.readInt32LE(off + 12) });
    if (len < 16) break;
    off += (len + 7) & ~7;
  }
  return out;
}

function find(buf: Buffer, level: number, type: number): Cmsg {
  const c = cmsgs(buf).find((m) => m.level === level && m.type === type);
  assert.ok(c, `no control message ${level}/${type} in the seed`);
  return c;
}

const withLen = (buf: Buffer, c: Cmsg, len: number | bigint) => {
  const b = Buffer.from(buf);
  b.writeBigUInt64LE(BigInt(len), c.off);
  return b;
};

// Levels and types (Linux): SOL_SOCKET 1 / SCM_TIMESTAMPING 37, IPPROTO_IP 0 /
// IP_TTL 2 / IP_RECVERR 11, IPPROTO_IPV6 41 / IPV6_RECVERR 25.
const STAMP = [1, 37] as const;
const RECVERR4 = [0, 11] as const;
const RECVERR6 = [41, 25] as const;
// sizeof: cmsghdr 16, timespec[3] 48, sock_extended_err 16, sockaddr_in 16, sockaddr_in6 28.

/** A copy of rxparse.c with one check taken out; the fuzzer must crash on it. */
interface Mutant {
  name: string;
  remove: string;
  put?: string;
  sanitizer: RegExp;
}

const mutants: Mutant[] = [
  {
    name: 'timestamping length check',
    remove: '  if (len < sizeof ts) return; /* length check: timestamping */\n',
    sanitizer: /AddressSanitizer: heap-buffer-overflow[\s\S]*in parse_timestamping/,
  },
  {
    name: 'offender sockaddr_in6 length check',
    remove: '    if (room < sizeof sin6) return; /* length check: offender sockaddr_in6 */\n',
    sanitizer: /AddressSanitizer: heap-buffer-overflow[\s\S]*in parse_extended_error/,
  },
  {
    name: 'cmsg_len bounded by the buffer',
    remove: 'size_t len = h.cmsg_len < room ? h.cmsg_len : room; /* length check: cmsg within buffer */',
    put: 'size_t len = h.cmsg_len;',
    sanitizer: /AddressSanitizer: heap-buffer-overflow/,
  },
  {
    // Either finding is the planted bug: a huge tv_sec overflows the ns count
    // (UBSan), a negative one gives a stamp the harness refuses (abort).
    name: 'timestamp range check (UBSan: signed overflow, or a stamp that is not positive)',
    remove:
      '  if (ts[0].tv_sec < 0 || ts[0].tv_sec >= INT64_MAX / NS_PER_S ' +
      '|| ts[0].tv_nsec < 0 || ts[0].tv_nsec >= NS_PER_S)\n    return;\n',
    sanitizer: /runtime error: signed integer overflow|deadly signal[\s\S]*in LLVMFuzzerTestOneInput/,
  },
];

describe('rxparse under sanitizers', { concurrency: true, timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'vpsline-rxparse-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const source = readFileSync(join(native, 'rxparse.c'), 'utf8');

  it('reads the seed corpus and cut or malformed buffers, inside their bounds', { skip }, async () => {
    const print = await compile(
      join(dir, 'rxparse_print'),
      [join(native, 'fuzz', 'rxparse_print.c'), join(native, 'rxparse.c')],
      SANITIZE,
      dir,
    );
    const seeds = Object.fromEntries(readdirSync(corpus).map((f) => [f, readFileSync(join(corpus, f))]));
    const seed = (name: string) => {
      const b = seeds[name];
      assert.ok(b, `seed ${name} is missing from native/fuzz/corpus`);
      return b;
    };
    const v4err = seed('udp4-recverr');
    const v6err = seed('udp6-recverr');
    const v4ts = seed('udp4-stamp-ttl');
    const ee6 = find(v6err, ...RECVERR6);
    const ee4 = find(v4err, ...RECVERR4);
    const ts4 = find(v4ts, ...STAMP);
    const cases: Record<string, Buffer> = {
      ...seeds,
      // cmsg_len one byte short of the sockaddr_in6 (the bytes are still in the buffer)
      'v6-offender-short-cmsg': withLen(v6err, ee6, 16 + 16 + 27),
      // the buffer ends one byte short of the sockaddr_in6 (cmsg_len still says 60)
      'v6-offender-short-buffer': v6err.subarray(0, ee6.off + 16 + 16 + 27),
      'v4-offender-short-buffer': v4err.subarray(0, ee4.off + 16 + 16 + 15),
      // only the family fits: no offender; one byte less: not even the family
      'v4-family-only': v4err.subarray(0, ee4.off + 16 + 16 + 2),
      'v4-ee-short': v4err.subarray(0, ee4.off + 16 + 15),
      // a timestamp message one byte short: skipped, the TTL after it still read
      'stamp-short-cmsg': withLen(v4ts, ts4, 16 + 47),
      'stamp-short-buffer': v4ts.subarray(0, ts4.off + 16 + 47),
      // a first message longer than the whole buffer: read up to the buffer's end
      'first-cmsg-too-long': withLen(v4ts, ts4, 1_000_000),
      'cmsg-len-huge': withLen(v4ts, ts4, 2n ** 64n - 8n),
      // shorter than its own header: nothing after it can be found
      'cmsg-len-8': withLen(v4ts, ts4, 8),
      'header-only': v4ts.subarray(0, 16),
      'less-than-a-header': v4ts.subarray(0, 15),
      empty: Buffer.alloc(0),
    };
    const inputs = join(dir, 'inputs');
    mkdirSync(inputs);
    for (const [name, b] of Object.entries(cases)) writeFileSync(join(inputs, name), b);
    const r = await run(print, Object.keys(cases), inputs, 30_000);
    assert.equal(r.status, 0, r.output);
    const got = Object.fromEntries(
      r.output
        .trim()
        .split('\n')
        .map((l) => {
          const { file, ...rest } = JSON.parse(l) as { file: string; rxTimeNs?: string };
          return [file, { ...rest, rxTimeNs: rest.rxTimeNs === undefined ? 'none' : 'kernel' }];
        }),
    );
    const v4 = { errno: 111, origin: 2, type: 3, code: 3, info: 0 }; // ECONNREFUSED, ICMP port unreachable
    const v6 = { errno: 111, origin: 3, type: 1, code: 4, info: 0 }; // ICMPv6 port unreachable
    assert.deepEqual(got, {
      'udp4-stamp-ttl': { rxTimeNs: 'kernel', ttl: 64 },
      'udp6-stamp-hoplimit': { rxTimeNs: 'kernel', ttl: 64 },
      'udp4-recverr': { rxTimeNs: 'kernel', ttl: 64, ee: { ...v4, offender: '127.0.0.1' } },
      'udp6-recverr': { rxTimeNs: 'kernel', ttl: 64, ee: { ...v6, offender: '::1' } },
      'v6-offender-short-cmsg': { rxTimeNs: 'kernel', ttl: 64, ee: v6 },
      'v6-offender-short-buffer': { rxTimeNs: 'kernel', ttl: 64, ee: v6 },
      'v4-offender-short-buffer': { rxTimeNs: 'kernel', ttl: 64, ee: v4 },
      'v4-family-only': { rxTimeNs: 'kernel', ttl: 64, ee: v4 },
      'v4-ee-short': { rxTimeNs: 'kernel', ttl: 64 },
      'stamp-short-cmsg': { rxTimeNs: 'none', ttl: 64 },
      'stamp-short-buffer': { rxTimeNs: 'none' },
      'first-cmsg-too-long': { rxTimeNs: 'kernel' },
      'cmsg-len-huge': { rxTimeNs: 'kernel' },
      'cmsg-len-8': { rxTimeNs: 'none' },
      'header-only': { rxTimeNs: 'none' },
      'less-than-a-header': { rxTimeNs: 'none' },
      empty: { rxTimeNs: 'none' },
    });
  });

  it(`libFuzzer finds nothing in ${FUZZ_SECONDS} s`, { skip }, async (t) => {
    const fuzz = await compile(
      join(dir, 'rxparse_fuzz'),
      [join(native, 'fuzz', 'rxparse_fuzz.c'), join(native, 'rxparse.c')],
      [...SANITIZE, '-fsanitize=fuzzer'],
      dir,
    );
    const found = join(dir, 'found');
    mkdirSync(found);
    const r = await run(
      fuzz,
      [
        `-max_total_time=${FUZZ_SECONDS}`,
        '-max_len=4096',
        '-timeout=10',
        '-print_final_stats=1',
        `-artifact_prefix=${dir}/`,
        found,
        corpus,
      ],
      dir,
      (FUZZ_SECONDS + 40) * 1000,
    );
    assert.equal(r.status, 0, tail(r.output));
    const runs = /stat::number_of_executed_units:\s*(\d+)/.exec(r.output)?.[1];
    const perSecond = /stat::average_exec_per_sec:\s*(\d+)/.exec(r.output)?.[1];
    t.diagnostic(`${runs} inputs in ${r.seconds.toFixed(1)} s (${perSecond}/s)`);
    assert.ok(Number(runs) > 10_000, `only ${runs} inputs ran:\n${tail(r.output)}`);
  });

  for (const [i, m] of mutants.entries()) {
    it(`positive control: without the ${m.name}, the fuzzer crashes`, { skip }, async (t) => {
      assert.ok(
        source.includes(m.remove),
        `rxparse.c no longer contains the line this control removes; update the test:\n${m.remove}`,
      );
      const mdir = join(dir, `mutant-${i}`);
      mkdirSync(join(mdir, 'found'), { recursive: true });
      writeFileSync(join(mdir, 'rxparse.c'), source.replace(m.remove, m.put ?? ''));
      copyFileSync(join(native, 'rxparse.h'), join(mdir, 'rxparse.h'));
      const fuzz = await compile(
        join(mdir, 'rxparse_fuzz'),
        [join(native, 'fuzz', 'rxparse_fuzz.c'), join(mdir, 'rxparse.c')],
        [...SANITIZE, '-fsanitize=fuzzer'],
        mdir,
      );
      const r = await run(
        fuzz,
        [
          `-max_total_time=${CONTROL_SECONDS}`,
          '-max_len=4096',
          `-artifact_prefix=${mdir}/`,
          join(mdir, 'found'),
          corpus,
        ],
        mdir,
        (CONTROL_SECONDS + 30) * 1000,
      );
      assert.notEqual(r.status, 0, `the fuzzer did not catch the missing ${m.name}:\n${tail(r.output)}`);
      assert.match(r.output, m.sanitizer, tail(r.output));
      t.diagnostic(`crashed after ${r.seconds.toFixed(2)} s: ${sanitizerLine(r.output)}`);
    });
  }
});

/** UBSan's "runtime error" line, or ASan's kind of error, the access and the first frame in rxparse.c. */
function sanitizerLine(output: string): string {
  const lines = output.split('\n');
  const ubsan = lines.find((l) => l.includes('runtime error:'));
  if (ubsan) return ubsan.trim();
  const kind = /ERROR: AddressSanitizer: ([\w-]+)/.exec(output)?.[1] ?? '?';
  const access = lines.find((l) => /^(READ|WRITE) of size/.test(l))?.replace(/ at 0x.*/, '') ?? '';
  const frame = lines.find((l) => /^\s+#\d+ .* in \w+ \S*rxparse\.c:\d+/.test(l))?.replace(/^.* in /, 'in ') ?? '';
  return `${kind}: ${access} ${frame}`.trim();
}
