// Network namespaces for lab tests: unique names, and always removed, even
// when a test fails or the process is interrupted. Only namespaces this
// process created are ever touched.
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';

const created = new Set<string>();
const children = new Set<ChildProcess>();

function cleanupSync(): void {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {}
  }
  children.clear();
  for (const name of created) {
    try {
      execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    } catch {}
    rmSync(`/etc/netns/${name}`, { recursive: true, force: true });
  }
  created.clear();
}

let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', cleanupSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      cleanupSync();
      process.kill(process.pid, sig);
    });
  }
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Skip reason for tests that need root (and so namespaces), or undefined. */
export function labSkipReason(): string | undefined {
  if (!isRoot()) return 'lab tests need root to create network namespaces (CI runs them as root)';
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'lab tests need iproute2 (`ip`)';
  }
  return undefined;
}

export class Netns {
  private constructor(readonly name: string) {}

  /** A new namespace named vl<random>-<role> with loopback up. */
  static create(role: string): Netns {
    hookExit();
    const name = `vl${randomBytes(4).toString('hex')}-${role}`;
    execFileSync('ip', ['netns', 'add', name]);
    created.add(name);
    const ns = new Netns(name);
    ns.ip('link', 'set', 'lo', 'up');
    return ns;
  }

  /** `ip -n <ns> ...` */
  ip(...args: string[]): string {
    return execFileSync('ip', ['-n', this.name, ...args], { encoding: 'utf8' });
  }

  /** Run a command in the namespace and wait for it. */
  exec(cmd: string, args: string[] = []): string {
    return execFileSync('ip', ['netns', 'exec', this.name, cmd, ...args], { encoding: 'utf8' });
  }

  /**
   * Processes started with `ip netns exec` in this namespace resolve names
   * through `nameserver` (iproute2 bind-mounts /etc/netns/<name>/resolv.conf).
   */
  useNameserver(nameserver: string): void {
    mkdirSync(`/etc/netns/${this.name}`, { recursive: true });
    writeFileSync(`/etc/netns/${this.name}/resolv.conf`, `nameserver ${nameserver}\noptions timeout:1 attempts:1\n`);
  }

  /** /etc/hosts for processes started with `ip netns exec` here ("address name" lines). */
  useHosts(lines: string[]): void {
    mkdirSync(`/etc/netns/${this.name}`, { recursive: true });
    writeFileSync(`/etc/netns/${this.name}/hosts`, `127.0.0.1 localhost\n${lines.join('\n')}\n`);
  }

  sysctl(key: string, value: string): void {
    this.exec('sysctl', ['-qw', `${key}=${value}`]);
  }

  /** Start a process in the namespace (Lab.spawn also kills it at cleanup). */
  spawn(cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    return spawn('ip', ['netns', 'exec', this.name, cmd, ...args], opts);
  }

  destroy(): void {
    if (!created.has(this.name)) return;
    try {
      execFileSync('ip', ['netns', 'del', this.name], { stdio: 'ignore' });
    } catch {}
    rmSync(`/etc/netns/${this.name}`, { recursive: true, force: true });
    created.delete(this.name);
  }
}

/** A set of namespaces and processes that one test (or suite) owns. */
export class Lab {
  private readonly namespaces: Netns[] = [];
  private readonly processes: ChildProcess[] = [];

  namespace(role: string): Netns {
    const ns = Netns.create(role);
    this.namespaces.push(ns);
    return ns;
  }

  /** Start a process in `ns` that this lab kills when it closes. */
  spawn(ns: Netns, cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    return this.track(ns.spawn(cmd, args, opts));
  }

  track(child: ChildProcess): ChildProcess {
    this.processes.push(child);
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  }

  /** Kill processes first (a namespace with processes in it would linger), then delete namespaces. */
  async close(): Promise<void> {
    await Promise.all(
      this.processes.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null || p.signalCode !== null) return resolve();
            p.once('exit', () => resolve());
            p.kill('SIGKILL');
          }),
      ),
    );
    for (const ns of this.namespaces) ns.destroy();
    this.namespaces.length = 0;
  }
}
