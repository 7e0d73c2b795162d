// Data flows one way: packets -> probes -> traces -> reports and routes ->
// the watch -> the server -> commands -> the CLI. This reads every import in src/ and
// fails on one that runs back up, and on a CLI file that loads more than its
// argument parsing needs at start (commands are imported when chosen).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';

const SRC = new URL('../src/', import.meta.url).pathname;

/** Lower layers may not import higher ones; the base ('.') is errors, i18n, version and the addon's face. */
const RANK: Record<string, number> = {
  '.': 0,
  packet: 1,
  virt: 1,
  probe: 2,
  lookup: 2,
  trace: 3,
  report: 4,
  route: 4,
  // The looking glass shows a watch's history; the watch knows nothing of it.
  watch: 5,
  server: 6,
  commands: 7,
  cli: 8,
};

interface Import {
  from: string;
  to: string;
  typeOnly: boolean;
  dynamic: boolean;
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every relative import of one file, as paths relative to src/. */
function importsOf(file: string, text: string): Import[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const from = relative(SRC, file);
  const out: Import[] = [];
  const add = (spec: string, typeOnly: boolean, dynamic: boolean): void => {
    if (!spec.startsWith('.')) return;
    out.push({ from, to: relative(SRC, resolve(dirname(file), spec)), typeOnly, dynamic });
  };
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n) && ts.isStringLiteral(n.moduleSpecifier)) {
      const clause = n.importClause;
      const allTypes =
        !!clause?.isTypeOnly ||
        (!!clause &&
          !clause.name &&
          !!clause.namedBindings &&
          ts.isNamedImports(clause.namedBindings) &&
          clause.namedBindings.elements.every((e) => e.isTypeOnly));
      add(n.moduleSpecifier.text, allTypes, false);
    } else if (ts.isExportDeclaration(n) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
      add(n.moduleSpecifier.text, n.isTypeOnly, false);
    } else if (
      ts.isCallExpression(n) &&
      n.expression.kind === ts.SyntaxKind.ImportKeyword &&
      n.arguments[0] &&
      ts.isStringLiteral(n.arguments[0])
    ) {
      add(n.arguments[0].text, false, true);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

const layer = (path: string): string => (path.includes('/') ? path.slice(0, path.indexOf('/')) : '.');

/** The imports that break the layering, as readable lines. */
export function violations(imports: Import[]): string[] {
  const bad: string[] = [];
  for (const i of imports) {
    const a = layer(i.from);
    const b = layer(i.to);
    if (a === 'index.ts' || a === b) continue;
    const ra = RANK[a];
    const rb = RANK[b];
    if (ra === undefined || rb === undefined) {
      bad.push(`${i.from}: folder ${ra === undefined ? a : b} has no layer in this test`);
      continue;
    }
    if (i.typeOnly) continue; // types describe data; they do not run
    if (a === 'cli' && !i.dynamic && b !== '.')
      bad.push(`${i.from} loads ${i.to} at start: the CLI only parses; import commands when they run`);
    else if (rb >= ra) bad.push(`${i.from} imports ${i.to}: ${a} (layer ${ra}) may not use ${b} (layer ${rb})`);
  }
  return bad;
}

describe('layering of src/', () => {
  const all = files(SRC)
    .filter((f) => relative(SRC, f) !== 'index.ts')
    .flatMap((f) => importsOf(f, readFileSync(f, 'utf8')));

  it('reads imports from every folder', () => {
    const seen = new Set(all.map((i) => layer(i.from)));
    for (const folder of Object.keys(RANK))
      assert.ok(seen.has(folder) || folder === '.', `no imports read from ${folder}`);
    assert.ok(all.length > 100, `only ${all.length} imports read`);
  });

  it('has no import that runs back up', () => {
    assert.deepEqual(violations(all), []);
  });

  it('catches one that does (positive control)', () => {
    const planted = (from: string, to: string, over: Partial<Import> = {}): Import => ({
      from,
      to,
      typeOnly: false,
      dynamic: false,
      ...over,
    });
    assert.equal(violations([planted('packet/ip.ts', 'probe/engine.ts')]).length, 1);
    assert.equal(violations([planted('trace/trace.ts', 'report/json.ts')]).length, 1);
    assert.equal(violations([planted('report/json.ts', 'route/lines.ts')]).length, 1); // same rank, other folder
    assert.equal(violations([planted('cli/mtr.ts', 'commands/mtr.ts')]).length, 1);
    assert.equal(violations([planted('cli/mtr.ts', 'commands/mtr.ts', { dynamic: true })]).length, 0);
    assert.equal(violations([planted('cli/mtr.ts', 'trace/trace.ts', { typeOnly: true })]).length, 0);
    assert.equal(violations([planted('newthing/x.ts', 'packet/ip.ts')]).length, 1);
  });
});

// Like mtr's rule that only mtr-packet touches privileges: one TypeScript file
// may call the addon's privilege boundary or hand sockets over.
const PRIVILEGED_CALLS = /\.(dropPrivilegesAndExec|adoptInherited|lookupUser)\(/;
const PRIVILEGE_OWNER = 'probe/process-engine.ts';

function privilegeCallers(sources: { file: string; text: string }[]): string[] {
  return sources.filter((s) => s.file !== PRIVILEGE_OWNER && PRIVILEGED_CALLS.test(s.text)).map((s) => s.file);
}

describe('privileges', () => {
  const sources = files(SRC).map((f) => ({ file: relative(SRC, f), text: readFileSync(f, 'utf8') }));

  it(`only ${PRIVILEGE_OWNER} crosses the privilege boundary`, () => {
    assert.ok(sources.some((s) => s.file === PRIVILEGE_OWNER && PRIVILEGED_CALLS.test(s.text)));
    assert.deepEqual(privilegeCallers(sources), []);
  });

  it('catches a file that does (positive control)', () => {
    const planted = { file: 'server/app.ts', text: 'native().dropPrivilegesAndExec(0, 0, [], f, a, e);' };
    assert.deepEqual(privilegeCallers([...sources, planted]), ['server/app.ts']);
  });
});
