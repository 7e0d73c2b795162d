// `vpsline virt --dump DIR`: save everything the check read on this machine,
// so that `vpsline virt --root DIR` reads it back as if it were the machine.
// A RecordingSource sits between the detector and the real machine and notes
// every answer (file text, listing, link, CPUID leaf, command output, device,
// denied read); writeDump lays them out as docs/virt-dump.md describes.
// Identifiers are scrubbed on the way out: only `container=` of the
// environment, serial numbers and UUIDs cut to their first three characters
// (what a provider check needs: "ec2"), and the host name replaced everywhere.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { errnoCode, VpslineError } from '../errors.js';
import {
  type CommandName,
  FixtureSource,
  outputOf,
  type Probes,
  type Read,
  readCpuid,
  type VirtSource,
} from './source.js';

export const DUMP_FORMAT = 'vpsline-virt-dump';
export const DUMP_VERSION = 1;
/** The manifest's name in a dump folder; `--root` looks for it. */
export const DUMP_MANIFEST = 'dump.json';
/** What a host name is replaced with. */
const HOST_MASK = 'HOSTNAME';

/** Files whose text names this machine: kept to their first three characters, the rest zeros. */
export const IDENTIFIERS = new Set([
  '/sys/class/dmi/id/product_serial',
  '/sys/class/dmi/id/product_uuid',
  '/sys/hypervisor/uuid',
]);

export interface DumpManifest {
  format: typeof DUMP_FORMAT;
  version: number;
  vpsline: string;
  createdAt: string;
  /** Whether the host name was kept (--dump-hostname). */
  hostname: 'kept' | 'masked';
  /** What other tools printed on this machine, when installed: a second opinion for whoever reads the dump. */
  tools: Record<string, { stdout: string; exitCode: number } | 'not installed'>;
}

/** A CPUID leaf's four registers, as the dump keeps them. */
export interface CpuidRegisters {
  eax: string;
  ebx: string;
  ecx: string;
  edx: string;
}

/** A leaf's four registers on this machine, as 0x-hex words; undefined when CPUID cannot be read. */
export function hostCpuidRegisters(leaf: number): CpuidRegisters | undefined {
  const r = readCpuid(leaf);
  if (r.status !== 'ok') return undefined;
  const word = (i: number): string =>
    `0x${r.value
      .readUInt32LE(4 * i)
      .toString(16)
      .padStart(8, '0')}`;
  return { eax: word(0), ebx: word(1), ecx: word(2), edx: word(3) };
}

/** Keep the first three characters of an identifier; every other letter or digit becomes 0. */
export function cutIdentifier(value: string): string {
  return value.slice(0, 3) + value.slice(3).replace(/[0-9A-Za-z]/g, '0');
}

/** Of a NUL-separated environment, only the `container=` entry. */
function onlyContainerVariable(environ: string): string {
  return environ
    .split('\0')
    .filter((kv) => kv.startsWith('container='))
    .map((kv) => `${kv}\0`)
    .join('');
}

/**
 * Forwards every read to `inner` and remembers the answer. Reads of the same
 * path keep the first answer: the detector reads a file once per question,
 * and /proc/stat's second reading comes through statLater.
 */
export class RecordingSource implements VirtSource {
  readonly files = new Map<string, Buffer>();
  readonly probes: Required<Omit<Probes, 'statLater'>> & { statLater?: string } = {
    cpuid: {},
    commands: {},
    denied: [],
    links: {},
    devices: {},
    lists: {},
  };
  readonly cpuidRegisters: Record<string, CpuidRegisters> = {};

  constructor(
    private readonly inner: VirtSource,
    private readonly registers?: (leaf: number) => CpuidRegisters | undefined,
  ) {}

  private deny(path: string): void {
    if (!this.probes.denied.includes(path)) this.probes.denied.push(path);
  }

  read(path: string): Read {
    const r = this.inner.readBytes(path);
    this.noteFile(path, r);
    return r.status === 'ok' ? { status: 'ok', value: r.value.toString('utf8') } : r;
  }

  readBytes(path: string): Read<Buffer> {
    const r = this.inner.readBytes(path);
    this.noteFile(path, r);
    return r;
  }

  private noteFile(path: string, r: Read<Buffer>): void {
    if (r.status === 'denied') this.deny(path);
    else if (r.status === 'ok' && !this.files.has(path)) this.files.set(path, r.value);
  }

  list(path: string): Read<string[]> {
    const r = this.inner.list(path);
    if (r.status === 'denied') this.deny(path);
    else if (r.status === 'ok') this.probes.lists[path] ??= r.value;
    return r;
  }

  readlink(path: string): Read {
    const r = this.inner.readlink(path);
    if (r.status === 'denied') this.deny(path);
    else if (r.status === 'ok') this.probes.links[path] ??= r.value;
    return r;
  }

  cpuidVendor(leaf: number): Read {
    const r = this.inner.cpuidVendor(leaf);
    const key = `0x${leaf.toString(16)}`;
    if (r.status === 'denied') this.deny('/dev/cpu/0/cpuid');
    else if (r.status === 'ok') {
      this.probes.cpuid[key] = r.value;
      const regs = this.registers?.(leaf);
      if (regs) this.cpuidRegisters[key] = regs;
    }
    return r;
  }

  command(name: CommandName): Read {
    const r = this.inner.command(name);
    if (r.status === 'ok') this.probes.commands[name] = r.value;
    else if (r.status === 'denied') this.probes.commands[name] = 'denied';
    return r;
  }

  openDevice(path: string): Read<boolean> {
    const r = this.inner.openDevice(path);
    if (r.status === 'ok') this.probes.devices[path] = r.value;
    else if (r.status === 'denied') this.probes.devices[path] = 'denied';
    return r;
  }

  async statLater(ms: number): Promise<Read> {
    const r = await this.inner.statLater(ms);
    if (r.status === 'ok') this.probes.statLater = r.value;
    return r;
  }
}

/** Replace the host name (a whole word, case kept as found) in a text. */
function maskHost(text: string, name: string | undefined): string {
  if (!name) return text;
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return text.replace(new RegExp(`\\b${escaped}\\b`, 'g'), HOST_MASK);
}

/** What a tool printed here, with a time limit and no shell; undefined when it is not installed. */
function runTool(file: string, args: string[]): { stdout: string; exitCode: number } | undefined {
  try {
    const stdout = execFileSync(file, args, { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
    return { stdout, exitCode: 0 };
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    const status: unknown = err instanceof Error ? Reflect.get(err, 'status') : undefined;
    return { stdout: outputOf(err, 'stdout') ?? '', exitCode: typeof status === 'number' ? status : -1 };
  }
}

/** systemd-detect-virt (three ways) and virt-what, as a dump's second opinion. */
export function otherTools(): DumpManifest['tools'] {
  const tools: DumpManifest['tools'] = {};
  for (const [name, file, args] of [
    ['systemd-detect-virt', 'systemd-detect-virt', []],
    ['systemd-detect-virt --vm', 'systemd-detect-virt', ['--vm']],
    ['systemd-detect-virt --container', 'systemd-detect-virt', ['--container']],
    ['virt-what', 'virt-what', []],
  ] as const) {
    tools[name] = runTool(file, [...args]) ?? 'not installed';
  }
  return tools;
}

/**
 * Write a recording to `dir` (which must be empty or not exist): the files
 * under root/, the rest in probes.json, the manifest in dump.json. The
 * manifest is written last, so a folder without it is not a dump.
 */
export function writeDump(
  dir: string,
  rec: RecordingSource,
  meta: { vpsline: string; keepHostname: boolean; tools: DumpManifest['tools']; hostName?: string },
): DumpManifest {
  if (existsSync(dir) && readdirSync(dir).length > 0)
    throw new VpslineError('EVPSLINE_BAD_OPTION', `--dump ${dir} is not empty: give a new or empty folder.`, 2);
  const name = meta.hostName ?? hostname();
  // A name of three letters or fewer ("vm") names nobody, and masking it would blank words of evidence.
  const host = meta.keepHostname || name.length < 4 || name === 'localhost' ? undefined : name;
  const scrub = (path: string, data: Buffer): Buffer => {
    let text = data.toString('utf8');
    if (path === '/proc/1/environ') text = onlyContainerVariable(text);
    if (IDENTIFIERS.has(path)) text = cutIdentifier(text.trim()) + (text.endsWith('\n') ? '\n' : '');
    // ACPI tables are binary: kept as read (they carry no host name).
    if (path.startsWith('/sys/firmware/acpi/tables/')) return data;
    return Buffer.from(maskHost(text, host), 'utf8');
  };
  const root = join(dir, 'root');
  mkdirSync(root, { recursive: true });
  for (const [path, data] of rec.files) {
    const at = join(root, path);
    mkdirSync(dirname(at), { recursive: true });
    writeFileSync(at, scrub(path, data));
  }
  // Listed folders exist in the copy even when none of their entries was read.
  for (const path of Object.keys(rec.probes.lists)) mkdirSync(join(root, path), { recursive: true });
  const maskAll = (text: string): string => maskHost(text, host);
  const probes: Probes & { cpuidRegisters: Record<string, CpuidRegisters> } = {
    cpuid: rec.probes.cpuid,
    cpuidRegisters: rec.cpuidRegisters,
    commands: Object.fromEntries(Object.entries(rec.probes.commands).map(([k, v]) => [k, maskAll(v)])),
    denied: rec.probes.denied,
    links: rec.probes.links,
    devices: rec.probes.devices,
    lists: rec.probes.lists,
    ...(rec.probes.statLater !== undefined ? { statLater: rec.probes.statLater } : {}),
  };
  writeFileSync(join(dir, 'probes.json'), `${JSON.stringify(probes, null, 2)}\n`);
  const manifest: DumpManifest = {
    format: DUMP_FORMAT,
    version: DUMP_VERSION,
    vpsline: meta.vpsline,
    createdAt: new Date().toISOString(),
    hostname: meta.keepHostname ? 'kept' : 'masked',
    tools: Object.fromEntries(
      Object.entries(meta.tools).map(([k, v]) => [k, v === 'not installed' ? v : { ...v, stdout: maskAll(v.stdout) }]),
    ),
  };
  writeFileSync(join(dir, DUMP_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/**
 * `--root DIR` on a dump: its root/ and probes.json, after checking the
 * manifest. Undefined when DIR holds no manifest (a plain folder laid out
 * like /, read as before).
 */
export function openDump(dir: string): FixtureSource | undefined {
  const manifestPath = join(dir, DUMP_MANIFEST);
  if (!existsSync(manifestPath)) return undefined;
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new VpslineError('EVPSLINE_BAD_OPTION', `--root ${dir}: ${DUMP_MANIFEST} is not JSON (${message}).`, 2);
  }
  const format: unknown = typeof manifest === 'object' && manifest ? Reflect.get(manifest, 'format') : undefined;
  const version: unknown = typeof manifest === 'object' && manifest ? Reflect.get(manifest, 'version') : undefined;
  if (format !== DUMP_FORMAT)
    throw new VpslineError('EVPSLINE_BAD_OPTION', `--root ${dir}: ${DUMP_MANIFEST} is not a vpsline dump.`, 2);
  if (typeof version !== 'number' || version > DUMP_VERSION)
    throw new VpslineError(
      'EVPSLINE_BAD_OPTION',
      `--root ${dir}: dump format version ${String(version)}; ` +
        `this vpsline reads up to ${DUMP_VERSION}. Update vpsline.`,
      2,
    );
  return FixtureSource.load(join(dir, 'root'), join(dir, 'probes.json'));
}
