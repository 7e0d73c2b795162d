// What a privileged vpsline hands its unprivileged next image across execve:
// which descriptors are which sockets, which needs could not be met, and the
// listening socket. Pure: encoding, decoding, and reading a thread's
// privileges from its /proc status text.
import type { InheritedSocket } from './engine.js';

/** The environment variable that carries the handover; removed once read. */
export const HANDOVER_ENV = 'VPSLINE_HANDOVER';

export interface Handover {
  sockets: InheritedSocket[];
  /** Needs (by index) that could not be met while privileged, with why. */
  failed: { index: number; code: string; message: string }[];
  /** The looking glass's listening socket. */
  listenFd?: number;
}

const isFd = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 3 && (v as number) < 65536;

export function encodeHandover(h: Handover): string {
  return JSON.stringify(h);
}

/** The handover in `text`, or an error naming what is wrong with it. */
export function decodeHandover(text: string): Handover {
  const bad = (why: string): Error => new Error(`${HANDOVER_ENV} is not a vpsline handover (${why})`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw bad('not JSON');
  }
  if (typeof v !== 'object' || v === null) throw bad('not an object');
  const { sockets, failed, listenFd } = v as Record<string, unknown>;
  if (!Array.isArray(sockets) || !Array.isArray(failed)) throw bad('sockets or failed missing');
  for (const s of sockets)
    if (typeof s?.name !== 'string' || s.name.length > 32 || !isFd(s.fd)) throw bad('a socket without name or fd');
  for (const f of failed)
    if (!Number.isInteger(f?.index) || typeof f.code !== 'string' || typeof f.message !== 'string')
      throw bad('a failure without index, code or message');
  if (listenFd !== undefined && !isFd(listenFd)) throw bad('listenFd');
  return {
    sockets: sockets.map((s) => ({ name: s.name, fd: s.fd })),
    failed: failed.map((f) => ({ index: f.index, code: f.code, message: f.message })),
    ...(listenFd !== undefined ? { listenFd } : {}),
  };
}

/** A thread's privileges, from its /proc/<pid>/task/<tid>/status. */
export interface ThreadPrivileges {
  /** Real, effective, saved and filesystem uid. */
  uids: number[];
  /** CapInh, CapPrm, CapEff, CapBnd, CapAmb as bit masks. */
  caps: Record<'CapInh' | 'CapPrm' | 'CapEff' | 'CapBnd' | 'CapAmb', bigint>;
  noNewPrivs: boolean;
}

export function parseThreadStatus(status: string): ThreadPrivileges {
  const field = (name: string): string => {
    const value = new RegExp(`^${name}:[ \\t]*([^\\n]*)$`, 'm').exec(status)?.[1];
    if (value === undefined) throw new Error(`no ${name} line in the status text`);
    return value.trim();
  };
  const cap = (name: string): bigint => BigInt(`0x${field(name)}`);
  return {
    uids: field('Uid').split(/\s+/).map(Number),
    caps: {
      CapInh: cap('CapInh'),
      CapPrm: cap('CapPrm'),
      CapEff: cap('CapEff'),
      CapBnd: cap('CapBnd'),
      CapAmb: cap('CapAmb'),
    },
    noNewPrivs: field('NoNewPrivs') === '1',
  };
}

/** Whether a thread can do anything privileged: any capability held, or new privileges still possible. */
export function threadIsPrivileged(t: ThreadPrivileges): boolean {
  const { CapInh, CapPrm, CapEff, CapAmb } = t.caps;
  return CapInh !== 0n || CapPrm !== 0n || CapEff !== 0n || CapAmb !== 0n || !t.noNewPrivs;
}
