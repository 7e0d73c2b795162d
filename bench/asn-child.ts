// Run by bench/run.ts in a fresh process: how long the shipped AS index takes
// to be ready, what it adds to RSS, and what one lookup costs. Prints JSON.
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const rss0 = process.memoryUsage().rss;
const t0 = performance.now();
const { shippedAsnIndex } = await import('../src/lookup/asn-data.js');
const index = shippedAsnIndex();
const readyMs = performance.now() - t0;
gc?.();
const addedMb = (process.memoryUsage().rss - rss0) / 1048576;

// A mix like a trace's hops: public IPv4 across the space, and IPv6 inside announced space.
const v4: string[] = [];
const v6: string[] = [];
for (let i = 0; i < 50_000; i++) {
  v4.push(`${((i * 7919) % 223) + 1}.${(i * 31) % 256}.${(i * 17) % 256}.${(i % 254) + 1}`);
  v6.push(`240${i % 10}:${((i * 13) % 0xffff).toString(16)}:${(i % 4096).toString(16)}::${(i % 255).toString(16)}`);
}
const perLookup = (list: string[]): number => {
  let found = 0;
  const t = performance.now();
  for (let r = 0; r < 10; r++) for (const a of list) if (index.lookup(a) !== null) found++;
  if (found < 0) console.log(found);
  return ((performance.now() - t) * 1000) / (10 * list.length);
};
const carriersStart = performance.now();
const { CarrierTable } = await import('../src/lookup/carriers.js');
CarrierTable.load();
const carriersMs = performance.now() - carriersStart;
console.log(
  JSON.stringify({ readyMs, addedMb, v4Us: perLookup(v4), v6Us: perLookup(v6), ranges: index.size, carriersMs }),
);
