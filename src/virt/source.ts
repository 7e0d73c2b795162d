// Everything the virtualization check reads goes through a VirtSource: files
// under a root directory, plus "probes" for what files cannot carry (CPUID
// leaves, command output, opening a device). The host source reads the real
// machine; tests and `--root DIR --probes FILE` give a fixture instead.
// Every read says ok, missing or denied: denied is "unknown", never "no".
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readSync, readdirSync, readlinkSync, constants } from 'node:fs';
import { join } from 'node:path';
import { errnoCode, VpslineError } from '../errors.js';

export type Read<T = string> = { status: 'ok'; value: T } | { status: 'missing' } | { status: 'denied' };

/** Commands the check may run: fixed argument lists, never a shell. */
export const COMMANDS = {
  // lscpu runs CPUID itself, so it names the hypervisor without root.
  lscpu: ['lscpu'],
  dmesg: ['dmesg'],
} as const;
export type CommandName = keyof typeof COMMANDS;

export interface VirtSource {
  /** A file's text (paths are absolute as seen inside the machine: "/proc/vz"). */
  read(path: string): Read;
  /** A file's bytes (ACPI tables). */
  readBytes(path: string): Read<Buffer>;
  /** A directory's entries. */
  list(path: string): Read<string[]>;
  /** A symlink's target (namespace links: "pid:[4026531836]"). */
  readlink(path: string): Read;
  /** The vendor signature of a CPUID hypervisor leaf (0x40000000 + n*0x100). */
  cpuidVendor(leaf: number): Read;
  /** A command's standard output. */
  command(name: CommandName): Read;
  /** Whether a device opens read-write (/dev/net/tun, /dev/kvm). */
  openDevice(path: string): Read<boolean>;
  /** /proc/stat again after `ms` (steal time is a rate). */
  statLater(ms: number): Promise<Read>;
}

/** What a failed command wrote to `stream` before it failed (execFileSync puts it on the error), if anything. */
export function outputOf(err: unknown, stream: 'stdout' | 'stderr'): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const value: unknown = Reflect.get(err, stream);
  return typeof value === 'string' ? value : undefined;
}

function errnoRead<T>(err: unknown): Read<T> {
  const code = errnoCode(err);
  if (code === 'EACCES' || code === 'EPERM') return { status: 'denied' };
  return { status: 'missing' };
}

/** A bounded text read: /proc and /sys files are small, and a fixture must not make us read gigabytes. */
const MAX_FILE = 1 << 20;

/** The real machine (root "/"), or a plain directory tree. Commands and CPUID run only for "/". */
export class HostSource implements VirtSource {
  readonly isHost: boolean;

  constructor(
    readonly root = '/',
    private readonly allowCommands = true,
  ) {
    this.isHost = root === '/';
  }

  private at(path: string): string {
    return join(this.root, path);
  }

  read(path: string): Read {
    const r = this.readBytes(path);
    return r.status === 'ok' ? { status: 'ok', value: r.value.toString('utf8') } : r;
  }

  readBytes(path: string): Read<Buffer> {
    try {
      const fd = openSync(this.at(path), constants.O_RDONLY | constants.O_NONBLOCK);
      try {
        const buf = Buffer.alloc(64 * 1024);
        const chunks: Buffer[] = [];
        let total = 0;
        for (;;) {
          const n = readSync(fd, buf, 0, buf.length, null);
          if (n <= 0) break;
          chunks.push(Buffer.from(buf.subarray(0, n)));
          total += n;
          if (total >= MAX_FILE) break;
        }
        return { status: 'ok', value: Buffer.concat(chunks) };
      } finally {
        closeSync(fd);
      }
    } catch (err) {
      // EISDIR and friends: not a readable file, so nothing to say.
      return errnoRead(err);
    }
  }

  list(path: string): Read<string[]> {
    try {
      return { status: 'ok', value: readdirSync(this.at(path)).sort() };
    } catch (err) {
      return errnoRead(err);
    }
  }

  readlink(path: string): Read {
    try {
      return { status: 'ok', value: readlinkSync(this.at(path)) };
    } catch (err) {
      return errnoRead(err);
    }
  }

  cpuidVendor(leaf: number): Read {
    if (!this.isHost) return { status: 'missing' };
    const r = readCpuid(leaf);
    return r.status === 'ok' ? { status: 'ok', value: r.value.subarray(4, 16).toString('latin1') } : r;
  }

  command(name: CommandName): Read {
    if (!this.isHost || !this.allowCommands) return { status: 'missing' };
    const [file, ...args] = COMMANDS[name];
    try {
      const out = execFileSync(file, args, {
        encoding: 'utf8',
        timeout: 3000,
        maxBuffer: 4 * MAX_FILE,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, LC_ALL: 'C' },
      });
      return { status: 'ok', value: out };
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return { status: 'missing' };
      // Output before a failure still counts.
      const stdout = outputOf(err, 'stdout');
      if (stdout?.trim()) return { status: 'ok', value: stdout };
      if (/not permitted|denied/i.test(outputOf(err, 'stderr') ?? '')) return { status: 'denied' };
      return { status: 'missing' };
    }
  }

  openDevice(path: string): Read<boolean> {
    try {
      closeSync(openSync(this.at(path), constants.O_RDWR | constants.O_NONBLOCK));
      return { status: 'ok', value: true };
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT') return { status: 'missing' };
      if (code === 'EACCES' || code === 'EPERM') return { status: 'denied' };
      // ENXIO/ENODEV: the node exists but no driver answers.
      return { status: 'ok', value: false };
    }
  }

  async statLater(ms: number): Promise<Read> {
    if (!this.isHost) return { status: 'missing' };
    await new Promise((r) => setTimeout(r, ms));
    return this.read('/proc/stat');
  }
}

/**
 * One CPUID leaf of CPU 0 through the cpuid driver (root, module `cpuid`): the
 * file position is the leaf (EAX); the 16 bytes back are EAX, EBX, ECX, EDX.
 */
export function readCpuid(leaf: number): Read<Buffer> {
  let fd: number;
  try {
    fd = openSync('/dev/cpu/0/cpuid', 'r');
  } catch (err) {
    return errnoRead(err);
  }
  try {
    const b = Buffer.alloc(16);
    if (readSync(fd, b, 0, 16, leaf) !== 16) return { status: 'missing' };
    return { status: 'ok', value: b };
  } catch (err) {
    return errnoRead(err);
  } finally {
    closeSync(fd);
  }
}

/** What a fixture (or `--probes FILE`) says about things files cannot carry. */
export interface Probes {
  /** "0x40000000" -> vendor signature (12 characters; \u0000 padding allowed). */
  cpuid?: Record<string, string>;
  commands?: Partial<Record<CommandName, string>>;
  /** Paths that answer EACCES (they exist, as on a real machine, but cannot be read). */
  denied?: string[];
  /** Symlink targets, e.g. "/proc/self/ns/pid": "pid:[4026531836]". */
  links?: Record<string, string>;
  /** "/dev/net/tun": true (opens), false (no driver), "denied". */
  devices?: Record<string, boolean | 'denied'>;
  /** /proc/stat a moment later, for the steal rate. */
  statLater?: string;
  /** A folder's entries as the machine listed them (a dump's folders hold only what was read). */
  lists?: Record<string, string[]>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isStringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

function isStringMap(v: unknown): v is Record<string, string> {
  return isObject(v) && Object.values(v).every((x) => typeof x === 'string');
}

function isDeviceMap(v: unknown): v is Record<string, boolean | 'denied'> {
  return isObject(v) && Object.values(v).every((x) => typeof x === 'boolean' || x === 'denied');
}

/** A probes file, checked field by field (null counts as absent); a wrong field is named. */
function parseProbes(doc: unknown, file: string): Probes {
  if (!isObject(doc)) throw new VpslineError('EVPSLINE_BAD_OPTION', `--probes ${file} must be a JSON object.`, 2);
  const wrong = (field: string, shape: string): VpslineError =>
    new VpslineError('EVPSLINE_BAD_OPTION', `--probes ${file}: "${field}" must be ${shape}.`, 2);
  const probes: Probes = {};
  // null reads as absent, as a missing key does.
  const cpuid = doc.cpuid ?? undefined;
  const commands = doc.commands ?? undefined;
  const denied = doc.denied ?? undefined;
  const links = doc.links ?? undefined;
  const devices = doc.devices ?? undefined;
  const statLater = doc.statLater ?? undefined;
  const lists = doc.lists ?? undefined;
  if (cpuid !== undefined) {
    if (!isStringMap(cpuid)) throw wrong('cpuid', 'an object of leaf -> vendor string');
    probes.cpuid = cpuid;
  }
  if (commands !== undefined) {
    if (!isStringMap(commands)) throw wrong('commands', 'an object of command -> output string');
    probes.commands = commands;
  }
  if (denied !== undefined) {
    if (!isStringList(denied)) throw wrong('denied', 'a list of paths');
    probes.denied = denied;
  }
  if (links !== undefined) {
    if (!isStringMap(links)) throw wrong('links', 'an object of path -> link target');
    probes.links = links;
  }
  if (devices !== undefined) {
    if (!isDeviceMap(devices)) throw wrong('devices', 'an object of path -> true, false or "denied"');
    probes.devices = devices;
  }
  if (statLater !== undefined) {
    if (typeof statLater !== 'string') throw wrong('statLater', 'a string');
    probes.statLater = statLater;
  }
  if (lists !== undefined) {
    if (!isObject(lists) || !Object.values(lists).every(isStringList))
      throw wrong('lists', 'an object of folder -> list of names');
    probes.lists = lists as Record<string, string[]>;
  }
  return probes;
}

/** A directory tree plus probes: how fixtures (and users' saved machines) are read. */
export class FixtureSource implements VirtSource {
  private readonly files: HostSource;

  constructor(
    root: string,
    private readonly probes: Probes = {},
  ) {
    this.files = new HostSource(root, false);
  }

  static load(root: string, probesFile?: string): FixtureSource {
    if (!existsSync(root)) throw new VpslineError('EVPSLINE_BAD_OPTION', `--root ${root} does not exist.`, 2);
    if (!probesFile) return new FixtureSource(root);
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(probesFile, 'utf8'));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new VpslineError(
        'EVPSLINE_BAD_OPTION',
        `Cannot read --probes ${probesFile}: ${message.split('\n')[0]}.`,
        2,
      );
    }
    return new FixtureSource(root, parseProbes(doc, probesFile));
  }

  private denied(path: string): boolean {
    return (this.probes.denied ?? []).some((d) => path === d || path.startsWith(d.endsWith('/') ? d : `${d}/`));
  }

  read(path: string): Read {
    return this.denied(path) ? { status: 'denied' } : this.files.read(path);
  }

  readBytes(path: string): Read<Buffer> {
    return this.denied(path) ? { status: 'denied' } : this.files.readBytes(path);
  }

  list(path: string): Read<string[]> {
    if (this.denied(path)) return { status: 'denied' };
    const listed = this.probes.lists?.[path];
    return listed !== undefined ? { status: 'ok', value: listed } : this.files.list(path);
  }

  readlink(path: string): Read {
    if (this.denied(path)) return { status: 'denied' };
    const target = this.probes.links?.[path];
    return target !== undefined ? { status: 'ok', value: target } : this.files.readlink(path);
  }

  cpuidVendor(leaf: number): Read {
    if (this.denied('/dev/cpu/0/cpuid')) return { status: 'denied' };
    const v = this.probes.cpuid?.[`0x${leaf.toString(16)}`];
    return v === undefined ? { status: 'missing' } : { status: 'ok', value: v.padEnd(12, '\0') };
  }

  command(name: CommandName): Read {
    const v = this.probes.commands?.[name];
    if (v === 'denied') return { status: 'denied' };
    return v === undefined ? { status: 'missing' } : { status: 'ok', value: v };
  }

  openDevice(path: string): Read<boolean> {
    const v = this.probes.devices?.[path];
    if (v === 'denied') return { status: 'denied' };
    if (v !== undefined) return { status: 'ok', value: v };
    return this.files.read(path).status === 'missing' && this.files.list(path).status === 'missing'
      ? { status: 'missing' }
      : { status: 'ok', value: true };
  }

  async statLater(): Promise<Read> {
    const v = this.probes.statLater;
    return v === undefined ? { status: 'missing' } : { status: 'ok', value: v };
  }
}
