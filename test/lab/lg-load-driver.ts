// Load for the looking glass, run inside the lab namespace against a server
// on loopback there. Three runs: one trace alone; 50 traces at once with
// nobody watching (the baseline: the same probing, no web load); then 60
// traces asked for at once (50 may run) with 200 live viewers and one viewer
// too many. Prints JSON.
// Usage: node --import tsx test/lab/lg-load-driver.ts <base-url> <token> <target>
const [base, token, target] = process.argv.slice(2) as [string, string, string];
const COUNT = 10;

interface Hub {
  host: string;
  Avg: number;
  Best: number;
}
interface Result {
  report: { hubs: Hub[] };
}

async function startTrace(): Promise<{ status: number; id?: string }> {
  const r = await fetch(`${base}/api/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ target, count: COUNT }),
  });
  const body = (await r.json()) as { id?: string };
  return { status: r.status, ...(body.id ? { id: body.id } : {}) };
}

async function waitDone(id: string): Promise<Result & { status: string }> {
  for (;;) {
    const doc = (await (await fetch(`${base}/api/v1/traces/${id}`)).json()) as Result & { status: string };
    if (doc.status !== 'running') return doc;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const dest = (r: Result): { avg: number; best: number } | undefined => {
  const h = r.report.hubs.find((x) => x.host === target);
  return h ? { avg: h.Avg, best: h.Best } : undefined;
};

/** A live viewer: reads the event stream to its end; returns the hop events seen and the final result. */
let answeredViewers = 0;
async function view(id: string): Promise<{ status: number; hops: number; end?: { status: string; result?: Result } }> {
  const r = await fetch(`${base}/api/v1/traces/${id}/events`);
  answeredViewers++;
  if (r.status !== 200 || !r.body) return { status: r.status, hops: 0 };
  const decoder = new TextDecoder();
  let buf = '';
  let hops = 0;
  let end: { status: string; result?: Result } | undefined;
  for await (const chunk of r.body) {
    buf += decoder.decode(chunk as Uint8Array, { stream: true });
    for (let at = buf.indexOf('\n\n'); at >= 0; at = buf.indexOf('\n\n')) {
      const block = buf.slice(0, at);
      buf = buf.slice(at + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event === 'progress' && data) hops = (JSON.parse(data) as { hops: unknown[] }).hops.length;
      if (event === 'end' && data) end = JSON.parse(data) as { status: string; result?: Result };
    }
  }
  return { status: 200, hops, ...(end ? { end } : {}) };
}

// One trace alone (after one that warms the server up).
await waitDone((await startTrace()).id!);
const alone = dest(await waitDone((await startTrace()).id!));

// Baseline: 50 traces at once, nobody watching, results read once at the end.
const quiet = await Promise.all(Array.from({ length: 50 }, () => startTrace()));
await new Promise((r) => setTimeout(r, COUNT * 200 + 2500));
const baseline = await Promise.all(quiet.map(async (q) => dest(await waitDone(q.id!))));

const started = await Promise.all(Array.from({ length: 60 }, () => startTrace()));
const ids = started.filter((s) => s.status === 202).map((s) => s.id!);
const viewers = ids.flatMap((id) => Array.from({ length: 4 }, () => view(id)));
// The 201st viewer goes in once the server has answered all 200 (on a slow machine 300 ms was not
// always enough, and the 201st then took the slot of one of them).
for (let waited = 0; answeredViewers < viewers.length && waited < 30_000; waited += 20)
  await new Promise((r) => setTimeout(r, 20));
const extraViewer = await view(ids[0]!); // the 201st: over the cap while the 200 are connected
const seen = await Promise.all(viewers);
const results = await Promise.all(ids.map((id) => waitDone(id)));
const byId = new Map(ids.map((id, i) => [id, results[i]!]));

process.stdout.write(
  `${JSON.stringify({
    alone,
    baseline,
    statuses: started.map((s) => s.status),
    loaded: results.map((r) => dest(r)),
    finished: results.map((r) => r.status),
    viewers: seen.length,
    viewerStatuses: [...new Set(seen.map((v) => v.status))],
    viewersWithHops: seen.filter((v) => v.hops > 0).length,
    viewersMatching: seen.filter(
      (v, i) =>
        v.end?.status === 'done' &&
        JSON.stringify(v.end.result?.report.hubs) === JSON.stringify(byId.get(ids[Math.floor(i / 4)]!)!.report.hubs),
    ).length,
    extraViewerStatus: extraViewer.status,
  })}\n`,
);
