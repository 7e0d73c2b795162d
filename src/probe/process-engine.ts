// The process's probe engine, and the privilege boundary of the CLI's
// commands: sockets are opened while the process is privileged, then the
// process gives up its uid, every capability and the bounding set, sets
// no_new_privs, and replaces itself (execve) with the same command, which
// takes the open sockets over. docs/privileges.md says why it is done this way.
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { dirname, resolve } from 'node:path';
import { VpslineError } from '../errors.js';
import { native } from '../native.js';
import type { Family } from '../packet/address.js';
import { type IcmpSocketKind, ProbeEngine, type ProbeMode } from './engine.js';
import {
  decodeHandover,
  encodeHandover,
  HANDOVER_ENV,
  type Handover,
  parseThreadStatus,
  threadIsPrivileged,
} from './handover.js';
import type { ProbeProtocol } from './reply.js';

let shared: ProbeEngine | undefined;

/** The engine traces share unless given their own (one per thread). */
export function defaultEngine(): ProbeEngine {
  shared ??= new ProbeEngine();
  return shared;
}

/** Sockets a command will need, opened before privileges are given up. */
export interface SocketNeed {
  family: Family;
  protocol: ProbeProtocol | 'auto';
  icmpSocket?: IcmpSocketKind;
  /** Constant-flow probes: this many flows (raw sockets and one source port each). */
  flows?: number;
}

export interface PrivilegedSetup {
  needs: SocketNeed[];
  /**
   * Needs that cannot be met are skipped rather than fatal: the traces that
   * need them fail later with the reason (a looking glass on a host without
   * IPv6, a backtrace row). Otherwise the first failure is thrown.
   */
  optional?: boolean;
  /** Keep every privilege (for debugging): no switch, no exec. */
  keepCapabilities?: boolean;
  /**
   * Who to carry on as when started as root (--user, VPSLINE_USER). Not given:
   * nobody, or, when nobody cannot read what the command needs, root without
   * any capability (said through `notice`).
   */
  user?: string;
  /** One line for the user (standard error): why the switch went to root instead of nobody. */
  notice?: (line: string) => void;
  /** Files the command reads after the switch: checked first, so a refusal comes with its reason. */
  reads?: string[];
  /** A file the command creates and writes after the switch (the looking glass's store). */
  store?: string;
  /** A TCP port to listen on, opened while privileged (ports below 1024) and carried over. */
  listen?: { host: string; port: number };
}

/** What was opened: one mode per need, or the error that need met. */
export type OpenedSocket = { need: SocketNeed; mode: ProbeMode } | { need: SocketNeed; error: unknown };

export interface Unprivileged {
  opened: OpenedSocket[];
  /** The listening socket opened while privileged (only after a switch). */
  listenFd?: number;
}

/**
 * Open the sockets of every need; then, if this process holds any privilege,
 * give them all up by re-executing itself (this call then returns in the new
 * image, with the same sockets). A process without privileges goes on as it is.
 */
export async function openThenDropPrivileges(engine: ProbeEngine, setup: PrivilegedSetup): Promise<Unprivileged> {
  const handover = takeHandover();
  if (handover) return continueAfterExec(engine, setup, handover);
  const opened = openNeeds(engine, setup);
  if (setup.keepCapabilities || !processIsPrivileged()) return { opened };
  const target = checkAccess(switchTarget(setup.user ?? 'nobody'), setup);
  const listener = setup.listen ? await listenWhilePrivileged(setup.listen) : undefined;
  const next: Handover = {
    sockets: engine.inheritable(),
    failed: opened.flatMap((o, index) => ('error' in o ? [{ index, ...errorParts(o.error) }] : [])),
    ...(listener ? { listenFd: listenerFd(listener) } : {}),
  };
  const env = Object.entries({ ...process.env, [HANDOVER_ENV]: encodeHandover(next) }).map(([k, v]) => `${k}=${v}`);
  const argv = [process.execPath, ...process.execArgv, ...process.argv.slice(1)];
  const fds = [...next.sockets.map((s) => s.fd), ...(next.listenFd !== undefined ? [next.listenFd] : [])];
  return native().dropPrivilegesAndExec(target.uid, target.gid, fds, process.execPath, argv, env);
}

/** The new image: take the sockets over, meet the needs with them, and check nothing privileged is left. */
function continueAfterExec(engine: ProbeEngine, setup: PrivilegedSetup, handover: Handover): Unprivileged {
  engine.adoptInherited(handover.sockets);
  const failed = new Map(handover.failed.map((f) => [f.index, f]));
  const opened = setup.needs.map((need, index): OpenedSocket => {
    const f = failed.get(index);
    return f ? { need, error: new VpslineError(knownCode(f.code), f.message) } : { need, mode: open(engine, need) };
  });
  const left = privilegedThreads();
  if (left.length)
    throw new VpslineError(
      'EVPSLINE_PRIVILEGES',
      `threads ${left.join(', ')} still hold capabilities or lack no_new_privs after the switch; stopping.`,
    );
  return { opened, ...(handover.listenFd !== undefined ? { listenFd: handover.listenFd } : {}) };
}

function openNeeds(engine: ProbeEngine, setup: PrivilegedSetup): OpenedSocket[] {
  const opened: OpenedSocket[] = [];
  for (const need of setup.needs) {
    try {
      opened.push({ need, mode: open(engine, need) });
    } catch (error) {
      if (!setup.optional) throw error;
      opened.push({ need, error });
    }
  }
  return opened;
}

function open(engine: ProbeEngine, need: SocketNeed): ProbeMode {
  if (!need.flows) return engine.prepare(need.family, need.protocol, need.icmpSocket);
  const protocol = need.protocol === 'tcp' ? 'tcp' : 'udp';
  const mode = engine.prepareFlow(need.family, protocol);
  for (let i = 0; i < need.flows; i++) engine.flowPort(need.family, i, protocol);
  return mode;
}

/** The handover, if this image was started by a privileged vpsline; removed so no child sees it. */
function takeHandover(): Handover | undefined {
  const text = process.env[HANDOVER_ENV];
  if (text === undefined) return undefined;
  delete process.env[HANDOVER_ENV];
  try {
    return decodeHandover(text);
  } catch (err) {
    throw new VpslineError('EVPSLINE_PRIVILEGES', (err as Error).message);
  }
}

/** Root, or any capability in any thread. */
function processIsPrivileged(): boolean {
  return process.getuid?.() === 0 || process.geteuid?.() === 0 || privilegedThreads(true).length > 0;
}

/** Threads (ids) that hold a capability; unless `capsOnly`, also those that may still gain one. */
function privilegedThreads(capsOnly = false): string[] {
  return readdirSync('/proc/self/task').filter((tid) => {
    let status: string;
    try {
      status = readFileSync(`/proc/self/task/${tid}/status`, 'utf8');
    } catch {
      return false; // the thread ended meanwhile
    }
    const t = parseThreadStatus(status);
    return capsOnly ? t.caps.CapPrm !== 0n || t.caps.CapEff !== 0n || t.caps.CapAmb !== 0n : threadIsPrivileged(t);
  });
}

interface SwitchTarget {
  name: string;
  /** -1: keep the uid (root staying root, or a non-root process with capabilities). */
  uid: number;
  gid: number;
}

function switchTarget(user: string): SwitchTarget {
  // Not root (say capabilities from systemd's AmbientCapabilities): they are given up, the uid stays;
  // --user, like nginx's `user`, only means something to a process started as root.
  if (process.getuid?.() !== 0) return { name: user, uid: -1, gid: -1 };
  const found = /^\d{1,10}$/.test(user) ? { uid: Number(user), gid: Number(user) } : native().lookupUser(user);
  if (!found)
    throw new VpslineError(
      'EVPSLINE_BAD_OPTION',
      `There is no user named ${user}: create one (useradd --system --no-create-home vpsline) ` +
        'or name another with --user.',
      2,
    );
  return { name: user, uid: found.uid === 0 ? -1 : found.uid, gid: found.gid };
}

/**
 * After the switch the new image loads vpsline's own files and the command's
 * files as `target`: check now, while the reason can still be told. The
 * store's directory must be writable (SQLite's WAL creates files beside it).
 * A user named with --user who cannot is refused; the default user (nobody)
 * gives way to root without any capability, with a notice: an install in a
 * private folder (a checkout in /root) still runs, and still gives up every
 * privilege but the uid.
 */
function checkAccess(target: SwitchTarget, setup: PrivilegedSetup): SwitchTarget {
  if (target.uid === -1) return target;
  const testBin = existsSync('/usr/bin/test') ? '/usr/bin/test' : 'test';
  const can = (flag: '-r' | '-w', path: string): boolean =>
    spawnSync(testBin, [flag, path], { uid: target.uid, gid: target.gid, stdio: 'ignore' }).status === 0;
  const store = setup.store ? resolve(setup.store) : undefined;
  const problem = accessProblem(target, setup, store, can);
  if (!problem) {
    if (store) prepareStore(store, target);
    return target;
  }
  if (setup.user !== undefined)
    throw new VpslineError(
      'EVPSLINE_PRIVILEGES',
      `vpsline gives up root for user ${target.name}, who cannot ${problem.what}: ${problem.fix}, ` +
        'or name another user with --user.',
    );
  setup.notice?.(
    `vpsline: ${target.name} cannot ${problem.what}, so vpsline goes on as root without any capability ` +
      `(to run as ${target.name}: ${problem.fix}; or name a user with --user).`,
  );
  return { name: 'root', uid: -1, gid: -1 };
}

function accessProblem(
  target: SwitchTarget,
  setup: PrivilegedSetup,
  store: string | undefined,
  can: (flag: '-r' | '-w', path: string) => boolean,
): { what: string; fix: string } | undefined {
  const script = realpathSync(process.argv[1] ?? '');
  if (!can('-r', script))
    return { what: `read vpsline's own files (${script})`, fix: 'install vpsline where every user can read it' };
  for (const file of setup.reads ?? [])
    if (existsSync(file) && !can('-r', file))
      return { what: `read ${file}`, fix: `make it readable by ${target.name}` };
  const dir = store ? dirname(store) : undefined;
  if (dir && existsSync(dir) && !can('-w', dir))
    return { what: `write in ${dir}, where the store ${store} lives`, fix: `chown ${target.name} ${dir}` };
  return undefined;
}

/** Create the store's directory if missing (owned by the user), and hand an existing store to the user. */
function prepareStore(file: string, target: SwitchTarget): void {
  const dir = dirname(file);
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o750 });
    chownSync(dir, target.uid, target.gid);
  }
  for (const f of [file, `${file}-wal`, `${file}-shm`])
    if (existsSync(f) && statSync(f).uid !== target.uid) chownSync(f, target.uid, target.gid);
}

function listenWhilePrivileged(at: { host: string; port: number }): Promise<Server> {
  return new Promise((resolveListen, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new VpslineError('EVPSLINE_BAD_OPTION', `Cannot listen on ${at.host}:${at.port}: ${err.code ?? err.message}.`),
      ),
    );
    server.listen({ host: at.host, port: at.port, exclusive: true }, () => resolveListen(server));
  });
}

/** A listening net.Server's descriptor: Node keeps it on the server's libuv handle. */
function listenerFd(server: Server): number {
  const fd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new VpslineError('EVPSLINE_SOCKET', 'no descriptor for the listener');
  return fd;
}

function errorParts(err: unknown): { code: string; message: string } {
  return err instanceof VpslineError ? { code: err.code, message: err.message } : { code: '', message: String(err) };
}

function knownCode(code: string): VpslineError['code'] {
  return code === 'EVPSLINE_PERMISSION' || code === 'EVPSLINE_SOCKET' ? code : 'EVPSLINE_SOCKET';
}
