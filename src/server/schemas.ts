// The API's requests and answers as TypeBox schemas: Fastify validates every
// request against them (unknown fields refused, no type coercion) and
// serializes answers by them, and the handlers get their types from them.
import { Type } from '@fastify/type-provider-typebox';
import type { Static } from 'typebox';

export const ID_PATTERN = '^[A-Za-z0-9_-]{22}$';
export const Id = Type.String({ pattern: ID_PATTERN });
export const IdParams = Type.Object({ id: Id });

export const PROTOCOLS = ['icmp', 'udp', 'tcp', 'auto'] as const;
export const Protocol = Type.Union([
  Type.Literal('icmp'),
  Type.Literal('udp'),
  Type.Literal('tcp'),
  Type.Literal('auto'),
]);

/** No body at all is the visitor, with the server's defaults. */
export const TraceRequest = (maxCount: number) =>
  Type.Object(
    {
      target: Type.Optional(Type.String({ minLength: 1, maxLength: 253 })),
      protocol: Type.Optional(Protocol),
      count: Type.Optional(Type.Integer({ minimum: 1, maximum: maxCount })),
    },
    { additionalProperties: false },
  );

export const ReportRequest = (uploadLimit: number) =>
  Type.Object(
    {
      text: Type.String({ minLength: 1, maxLength: uploadLimit }),
      traceId: Type.Optional(Id),
    },
    { additionalProperties: false },
  );

/** `?trace=` on an upload: the trace a link pairs it with (refused when it is another one's). */
export const ReportQuery = Type.Object({ trace: Type.Optional(Id) }, { additionalProperties: false });

/** Every 4xx and 5xx (refusals.ts). */
export const RefusalAnswer = Type.Object({
  error: Type.String(),
  code: Type.String(),
  params: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()]))),
  message: Type.Object({ en: Type.String(), zh: Type.String() }),
});

const Links = Type.Object({ self: Type.String(), events: Type.Optional(Type.String()), page: Type.String() });

export const TraceAccepted = Type.Object({
  id: Type.String(),
  target: Type.String(),
  protocol: Protocol,
  count: Type.Integer(),
  links: Links,
});

const Origin = Type.Object({
  address: Type.String(),
  asn: Type.Union([Type.Integer(), Type.Null()]),
  asName: Type.Union([Type.String(), Type.Null()]),
});

export const WhoamiAnswer = Type.Object({
  address: Type.String(),
  family: Type.Union([Type.Literal(4), Type.Literal(6)]),
  server: Type.String(),
  uploadLimit: Type.Integer(),
  choices: Type.Object({
    protocols: Type.Array(Protocol),
    maxCount: Type.Integer(),
    defaultCount: Type.Integer(),
  }),
  site: Type.Object({
    name: Type.Union([Type.String(), Type.Null()]),
    location: Type.Union([Type.String(), Type.Null()]),
    description: Type.Union([Type.String(), Type.Null()]),
    addresses: Type.Array(Origin),
    hosts: Type.Object({ v4: Type.Optional(Type.String()), v6: Type.Optional(Type.String()) }),
  }),
  returnRoutes: Type.Boolean(),
  /** The line watch's pictures are on (/watch). */
  watch: Type.Boolean(),
});

/** Who measured what, and when: on every stored trace and upload. */
const Provenance = {
  id: Type.String(),
  createdAt: Type.String(),
  masked: Type.Boolean(),
  /** The requester is the visitor it was made for (may mask it, and upload to it). */
  yours: Type.Boolean(),
};

/** A stored trace: the mtr JSON, verdict and hops are open-ended and pass through as stored. */
export const TraceAnswer = Type.Object(
  {
    ...Provenance,
    measuredBy: Type.Literal('server'),
    status: Type.String(),
    target: Type.String(),
    protocol: Type.String(),
    count: Type.Integer(),
    finishedAt: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: true },
);

export const ReportAnswer = Type.Object(
  {
    ...Provenance,
    measuredBy: Type.Literal('visitor'),
    traceId: Type.Union([Type.String(), Type.Null()]),
    format: Type.String(),
  },
  { additionalProperties: true },
);

export type TraceView = Static<typeof TraceAnswer> & Record<string, unknown>;
export type ReportView = Static<typeof ReportAnswer> & Record<string, unknown>;

export const MaskAnswer = Type.Object({ masked: Type.Boolean() });

/** Whatever the return-route cache says (return-routes.ts has its shape). */
export const OpenAnswer = Type.Object({}, { additionalProperties: true });

// ---- the line watch's pictures (plugins/watch.ts) ----

const WatchTargetName = Type.String({ minLength: 1, maxLength: 100 });
/** A time: ISO 8601, or milliseconds since 1970 (the page's links use ISO). */
const WatchTime = Type.String({ minLength: 1, maxLength: 40 });
const Names = Type.Object({ en: Type.String(), zh: Type.String() });
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);
/** Each verdict that occurs in an answer, by name in both languages. */
const LineNames = Type.Record(Type.String(), Names);

export const WatchRangeQuery = Type.Object(
  { target: WatchTargetName, from: Type.Optional(WatchTime), to: Type.Optional(WatchTime) },
  { additionalProperties: false },
);

export const WatchProfileQuery = Type.Object(
  {
    target: WatchTargetName,
    days: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
    to: Type.Optional(WatchTime),
    tz: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);

export const WatchSampleQuery = Type.Object({ target: WatchTargetName, t: WatchTime }, { additionalProperties: false });

export const WatchTargetsAnswer = Type.Object({
  /** True when the watch runs in this process; false: a history recorded by another process. */
  running: Type.Boolean(),
  intervalMs: Type.Union([Type.Integer(), Type.Null()]),
  retention: Type.Object({ detailDays: Type.Number(), hourlyDays: Type.Number() }),
  targets: Type.Array(
    Type.Object({
      name: Type.String(),
      address: Type.String(),
      carrier: Type.Union([Type.String(), Type.Null()]),
      lastSample: Type.Union([Type.Integer(), Type.Null()]),
      verdict: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
  lines: LineNames,
});

export const WatchSeriesAnswer = Type.Object({
  target: Type.String(),
  from: Type.Integer(),
  to: Type.Integer(),
  /** 'sample': one point per stored sample; 'hour': hour rollups (a range too long or too old for samples). */
  resolution: Type.Union([Type.Literal('sample'), Type.Literal('hour')]),
  /** Time one point covers, ms (a longer gap between points is a gap in the line). */
  stepMs: Type.Integer(),
  t: Type.Array(Type.Integer()),
  loss: Type.Array(NullableNumber),
  p10: Type.Array(NullableNumber),
  p25: Type.Array(NullableNumber),
  p50: Type.Array(NullableNumber),
  p75: Type.Array(NullableNumber),
  p90: Type.Array(NullableNumber),
  verdict: Type.Array(Type.Union([Type.String(), Type.Null()])),
  pathId: Type.Array(Type.Union([Type.Integer(), Type.Null()])),
  lines: LineNames,
});

export const WatchEventsAnswer = Type.Object({
  target: Type.String(),
  from: Type.Integer(),
  to: Type.Integer(),
  events: Type.Array(
    Type.Object(
      {
        id: Type.Integer(),
        type: Type.String(),
        start: Type.Integer(),
        end: Type.Union([Type.Integer(), Type.Null()]),
      },
      { additionalProperties: true },
    ),
  ),
  lines: LineNames,
});

export const WatchProfileAnswer = Type.Object({
  target: Type.String(),
  timeZone: Type.String(),
  from: Type.Integer(),
  to: Type.Integer(),
  hours: Type.Array(
    Type.Object({
      hour: Type.Integer(),
      samples: Type.Integer(),
      loss: NullableNumber,
      lossySamples: Type.Integer(),
      p50: NullableNumber,
      p90: NullableNumber,
      verdicts: Type.Record(Type.String(), Type.Integer()),
    }),
  ),
  lines: LineNames,
});

export const WatchSampleAnswer = Type.Object({
  target: Type.String(),
  t: Type.Integer(),
  loss: NullableNumber,
  p50: NullableNumber,
  p90: NullableNumber,
  verdict: Type.String(),
  confidence: Type.String(),
  carriers: Type.Array(Type.String()),
  destinationTtl: Type.Union([Type.Integer(), Type.Null()]),
  hops: Type.Array(
    Type.Object({
      ttl: Type.Integer(),
      address: Type.Union([Type.String(), Type.Null()]),
      addresses: Type.Array(Type.String()),
      sent: Type.Integer(),
      lost: Type.Integer(),
      loss: NullableNumber,
      p50: NullableNumber,
      p90: NullableNumber,
    }),
  ),
  lines: LineNames,
});
