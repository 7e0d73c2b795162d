// `vpsline serve`: the looking glass. Options only; src/server does the work.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import ipaddr from 'ipaddr.js';
import { VpslineError } from '../errors.js';
import { createLookingGlass, type ServeOptions } from '../server/app.js';
import { DEFAULT_LIMITS, type Limits } from '../server/limits.js';
import { defaultEngine } from '../trace/trace.js';

interface ServeFlags {
  listen: string;
  db: string;
  config?: string;
  tokenFile?: string;
  trustProxy: string[];
  allow: string[];
  publicHost?: string;
  carriers?: string;
  dns: boolean;
  log?: boolean;
  keepCapabilities?: boolean;
}

const collect = (v: string, list: string[]): string[] => [...list, v];

function parseListen(listen: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(listen);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !ipaddr.isValid(m[1]!) || !(port >= 0 && port <= 65535))
    throw new VpslineError(
      'EVPSLINE_BAD_OPTION',
      `--listen wants ADDRESS:PORT, like 127.0.0.1:8080 or [::]:8080 (got ${listen}).`,
      2,
    );
  return { host: m[1]!, port };
}

function checkCidrs(list: string[], what: string): string[] {
  for (const c of list) {
    try {
      ipaddr.parseCIDR(c.includes('/') ? c : `${c}/${c.includes(':') ? 128 : 32}`);
    } catch {
      throw new VpslineError('EVPSLINE_BAD_OPTION', `${what}: ${c} is not an address or CIDR block.`, 2);
    }
  }
  return list.map((c) => (c.includes('/') ? c : `${c}/${c.includes(':') ? 128 : 32}`));
}

/** A JSON config file: the same settings as the flags, plus "limits". */
function readConfig(file: string): Partial<ServeOptions> & { limits?: Partial<Limits> } {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new VpslineError(
      'EVPSLINE_BAD_OPTION',
      `Cannot read --config ${file}: ${(err as Error).message.split('\n')[0]}.`,
      2,
    );
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc))
    throw new VpslineError('EVPSLINE_BAD_OPTION', `--config ${file} must be a JSON object.`, 2);
  const c = doc as Record<string, unknown>;
  const known = new Set(['tokens', 'trustProxy', 'allow', 'limits', 'publicHost', 'dns']);
  for (const k of Object.keys(c))
    if (!known.has(k))
      throw new VpslineError(
        'EVPSLINE_BAD_OPTION',
        `--config ${file}: unknown setting "${k}" (known: ${[...known].join(', ')}).`,
        2,
      );
  const limits = (c.limits ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(limits)) {
    if (!(k in DEFAULT_LIMITS))
      throw new VpslineError('EVPSLINE_BAD_OPTION', `--config ${file}: unknown limit "${k}".`, 2);
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v))
      throw new VpslineError('EVPSLINE_BAD_OPTION', `--config ${file}: limit ${k} must be a positive number.`, 2);
  }
  return c as Partial<ServeOptions> & { limits?: Partial<Limits> };
}

export function serveCommand(program: Command): void {
  program
    .command('serve')
    .description('the looking glass: visitors trace back to themselves from a browser and compare both directions')
    .option('--listen <address:port>', 'where to listen', '127.0.0.1:8080')
    .option('--db <file>', 'SQLite file for traces, uploads and the audit log', './vpsline.db')
    .option('--config <file>', 'JSON settings: tokens, trustProxy, allow, publicHost, dns, limits')
    .option('--token-file <file>', 'tokens (one per line) that may trace targets other than the visitor')
    .option('--trust-proxy <cidr>', 'believe X-Forwarded-For from this proxy (repeatable)', collect, [])
    .option('--allow <cidr>', 'allow this special address range as a target (a lab or a LAN; repeatable)', collect, [])
    .option('--public-host <name>', 'how the forward-direction commands name this server')
    .option('--carriers <file>', 'extra or replacement carrier prefixes')
    .option('--no-dns', 'no reverse DNS for hop names')
    .option('--log', 'log every request (JSON lines on standard output)')
    .option('--keep-capabilities', 'do not drop capabilities after opening sockets')
    .action(async (f: ServeFlags) => {
      const { host, port } = parseListen(f.listen);
      const config = f.config ? readConfig(f.config) : {};
      let tokens = config.tokens ?? [];
      if (f.tokenFile) {
        try {
          tokens = [
            ...tokens,
            ...readFileSync(f.tokenFile, 'utf8')
              .split('\n')
              .map((l) => l.trim())
              .filter((l) => l && !l.startsWith('#')),
          ];
        } catch (err) {
          throw new VpslineError(
            'EVPSLINE_BAD_OPTION',
            `Cannot read --token-file ${f.tokenFile} (${(err as NodeJS.ErrnoException).code ?? 'error'}).`,
            2,
          );
        }
      }
      if (tokens.some((t) => typeof t !== 'string' || t.length < 16))
        throw new VpslineError('EVPSLINE_BAD_OPTION', 'tokens must be at least 16 characters long.', 2);
      const engine = defaultEngine();
      // Open the sockets every protocol needs while privileged.
      for (const family of [4, 6] as const) {
        for (const protocol of ['auto', 'udp', 'tcp'] as const) {
          try {
            engine.prepare(family, protocol);
          } catch {
            // That family or protocol is not available here; traces needing it fail with the reason.
          }
        }
      }
      const lg = await createLookingGlass({
        db: f.db,
        tokens,
        trustProxy: checkCidrs([...(config.trustProxy ?? []), ...f.trustProxy], '--trust-proxy'),
        allow: checkCidrs([...(config.allow ?? []), ...f.allow], '--allow'),
        ...(config.limits ? { limits: config.limits } : {}),
        dns: f.dns && config.dns !== false,
        ...(f.carriers ? { carriers: f.carriers } : {}),
        ...((f.publicHost ?? config.publicHost) ? { publicHost: (f.publicHost ?? config.publicHost)! } : {}),
        engine,
        log: f.log ?? false,
      });
      try {
        await lg.app.listen({ host, port });
      } catch (err) {
        await lg.close();
        throw new VpslineError(
          'EVPSLINE_BAD_OPTION',
          `Cannot listen on ${f.listen}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`,
          1,
        );
      }
      // Listening (a port below 1024 needs CAP_NET_BIND_SERVICE) and the probe sockets are done: give up every capability.
      if (!f.keepCapabilities) engine.dropCapabilities();
      const addr = lg.app.server.address();
      const where =
        typeof addr === 'object' && addr
          ? `${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`
          : f.listen;
      process.stderr.write(`vpsline: looking glass on http://${where}/ (database ${f.db})\n`);
      // Serve until told to stop; then finish cleanly (running traces are stopped and stored).
      await new Promise<void>((resolve) => {
        const stop = (): void => void lg.close().then(resolve, resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
