// `npm run data:asn`: build data/asn-index.bin.gz, the offline origin-AS
// index, from the pinned @ip-location-db/asn package (a devDependency: the
// index ships, the 65 MB dataset does not). With --csv FILE... --out FILE it
// builds an index from other CSVs of the same format (the lab's test dataset).
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { type AsnRow, encodeAsnIndex, readIpLocationCsv } from '../src/lookup/asn-index.js';

const { values } = parseArgs({
  options: {
    csv: { type: 'string', multiple: true },
    out: { type: 'string' },
    dataset: { type: 'string' },
  },
});

const root = new URL('..', import.meta.url).pathname;
const require = createRequire(import.meta.url);
const pkgDir = dirname(require.resolve('@ip-location-db/asn/package.json'));
const pkg: { name: string; version: string } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const files = values.csv ?? [join(pkgDir, 'asn-ipv4.csv'), join(pkgDir, 'asn-ipv6.csv')];
const out = values.out ?? join(root, 'data', 'asn-index.bin.gz');
const dataset = values.dataset ?? (values.csv ? 'test dataset' : `${pkg.name} ${pkg.version}`);

function* rows(): Generator<AsnRow> {
  for (const f of files) yield* readIpLocationCsv(readFileSync(f, 'utf8'), f);
}
const index = encodeAsnIndex(rows(), {
  dataset,
  license: 'CC BY 4.0: RouteViews, NRO (RIR delegations), DB-IP (https://db-ip.com)',
});
// Written beside the target and renamed: never a half-written index.
writeFileSync(`${out}.tmp`, index);
renameSync(`${out}.tmp`, out);
console.log(`${out}: ${(index.length / 1e6).toFixed(2)} MB from ${files.length} file(s) of ${dataset}`);
