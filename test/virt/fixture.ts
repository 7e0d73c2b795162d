// Fixture machines for the virtualization check. Each folder under
// fixtures/ is one environment: root/ holds the files that make it differ
// from fixtures/_base (a plain bare-metal Linux), fixture.json says what to
// remove from the base and what files cannot carry (CPUID, command output,
// denied paths, namespace links), expected.json what the report must say.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FixtureSource, type Probes } from '../../src/virt/source.js';

export const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;

export interface FixtureMeta {
  description: string;
  remove?: string[];
  probes?: Probes;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Objects merge, null deletes a key, anything else replaces. */
export function mergeProbes(base: Json, over: Json): Json {
  if (
    !over ||
    typeof over !== 'object' ||
    Array.isArray(over) ||
    !base ||
    typeof base !== 'object' ||
    Array.isArray(base)
  )
    return over;
  const out: Record<string, Json> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else out[k] = k in out ? mergeProbes(out[k]!, v) : v;
  }
  return out;
}

export function environments(): string[] {
  return readdirSync(FIXTURES, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('_'))
    .map((d) => d.name)
    .sort();
}

export interface MaterializedFixture {
  name: string;
  meta: FixtureMeta;
  root: string;
  probes: Probes;
  probesFile: string;
  source: FixtureSource;
  cleanup(): void;
}

/** Base + environment laid out in a temporary folder, as `--root` expects. */
export function materialize(name: string): MaterializedFixture {
  const dir = join(FIXTURES, name);
  const meta = JSON.parse(readFileSync(join(dir, 'fixture.json'), 'utf8')) as FixtureMeta;
  const tmp = mkdtempSync(join(tmpdir(), `vpsline-virt-${name}-`));
  const root = join(tmp, 'root');
  cpSync(join(FIXTURES, '_base', 'root'), root, { recursive: true });
  for (const r of meta.remove ?? []) rmSync(join(root, r), { recursive: true, force: true });
  try {
    cpSync(join(dir, 'root'), root, { recursive: true, force: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const baseProbes = JSON.parse(readFileSync(join(FIXTURES, '_base', 'probes.json'), 'utf8')) as Json;
  const probes = mergeProbes(baseProbes, (meta.probes ?? {}) as Json) as Probes;
  // Also as a file, for `vpsline virt --root DIR --probes FILE`.
  const probesFile = join(tmp, 'probes.json');
  writeFileSync(probesFile, JSON.stringify(probes));
  return {
    name,
    meta,
    root,
    probes,
    probesFile,
    source: new FixtureSource(root, probes),
    cleanup: () => rmSync(tmp, { recursive: true, force: true }),
  };
}
