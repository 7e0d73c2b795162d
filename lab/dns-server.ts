// A small DNS server for lab namespaces: answers PTR and TXT questions from a
// table (reverse names, Team Cymru-style AS records), NXDOMAIN otherwise; or
// never answers at all ("silent"), to show lookups cannot hold a report back.
// Usage (inside a namespace): node --import tsx lab/dns-server.ts '<DnsConfig JSON>'
import { createSocket } from 'node:dgram';

export interface DnsConfig {
  listen: string;
  /** name -> PTR target */
  ptr?: Record<string, string>;
  /** name -> TXT text */
  txt?: Record<string, string>;
  silent?: boolean;
  /** Print every question on stdout ("query <type> <name>"), for tests that count what was asked. */
  log?: boolean;
}

const TYPE_PTR = 12;
const TYPE_TXT = 16;

function readName(buf: Buffer, off: number): { name: string; end: number } | null {
  const labels: string[] = [];
  while (off < buf.length) {
    const len = buf[off]!;
    if (len === 0) return { name: labels.join('.').toLowerCase(), end: off + 1 };
    if (len > 63 || off + 1 + len > buf.length) return null;
    labels.push(buf.toString('ascii', off + 1, off + 1 + len));
    off += 1 + len;
  }
  return null;
}

/** The name a query asks about (lower case), or null. */
export function questionName(query: Buffer): string | null {
  return query.length > 12 ? (readName(query, 12)?.name ?? null) : null;
}

function encodeName(name: string): Buffer {
  return Buffer.concat([
    ...name
      .split('.')
      .filter(Boolean)
      .map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])),
    Buffer.from([0]),
  ]);
}

export function answer(config: DnsConfig, query: Buffer): Buffer | null {
  if (query.length < 12) return null;
  const q = readName(query, 12);
  if (!q || q.end + 4 > query.length) return null;
  const type = query.readUInt16BE(q.end);
  const question = query.subarray(12, q.end + 4);
  let rdata: Buffer | undefined;
  if (type === TYPE_PTR && config.ptr?.[q.name]) rdata = encodeName(config.ptr[q.name]!);
  if (type === TYPE_TXT && config.txt?.[q.name]) {
    const text = Buffer.from(config.txt[q.name]!, 'ascii');
    rdata = Buffer.concat([Buffer.from([text.length]), text]);
  }
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // id
  header.writeUInt16BE(0x8180 | (rdata ? 0 : 3), 2); // response, recursion available, NOERROR / NXDOMAIN
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(rdata ? 1 : 0, 6);
  if (!rdata) return Buffer.concat([header, question]);
  const rr = Buffer.alloc(12);
  rr.writeUInt16BE(0xc00c, 0); // name: pointer to the question
  rr.writeUInt16BE(type, 2);
  rr.writeUInt16BE(1, 4); // IN
  rr.writeUInt32BE(60, 6);
  rr.writeUInt16BE(rdata.length, 10);
  return Buffer.concat([header, question, rr, rdata]);
}

if (process.argv[1]?.endsWith('dns-server.ts')) {
  const config = JSON.parse(process.argv[2] ?? '{}') as DnsConfig;
  const socket = createSocket(config.listen.includes(':') ? 'udp6' : 'udp4');
  socket.on('message', (msg, rinfo) => {
    if (config.log) {
      const name = questionName(msg);
      const at = name === null ? -1 : 12 + Buffer.byteLength(name) + 2;
      const type = at > 0 && at + 2 <= msg.length ? msg.readUInt16BE(at) : 0;
      process.stdout.write(`query ${type} ${name ?? '?'}\n`);
    }
    if (config.silent) return;
    const reply = answer(config, msg);
    if (reply) socket.send(reply, rinfo.port, rinfo.address);
  });
  socket.bind(53, config.listen, () => process.stdout.write('ready\n'));
}
