// vpsline as a library: trace a path from a Node program.
//
//   import { trace, renderReport } from 'vpsline';
//   const report = await trace('example.net', { cycles: 10 }).done;
//   console.log(renderReport(report, { wide: true }));
export { trace, Trace } from './trace/trace.js';
export { defaultEngine } from './probe/process-engine.js';
export { resolveTarget } from './lookup/resolve.js';
export type { TraceOptions, TraceReport, TraceSettings, TraceEvents, ProbeEvent, EndReason } from './trace/trace.js';
export type { HopSnapshot, Responder } from './trace/hop.js';
export type { LatencyStats } from './trace/stats.js';
export { ProbeEngine } from './probe/engine.js';
export type {
  ProbeRequest,
  ProbeResult,
  ProbeStatus,
  ProbeMode,
  IcmpSocketKind,
  EngineOptions,
  EngineCounters,
} from './probe/engine.js';
export type { DecodedReply, ReplyKind, ProbeProtocol } from './probe/reply.js';
export type { MplsLabel, UnreachableReason } from './packet/icmp.js';
export { renderReport } from './report/mtr-report.js';
export type { ReportOptions } from './report/mtr-report.js';
export { ReverseDns } from './lookup/reverse-dns.js';
export { VpslineError, isVpslineError } from './errors.js';
export { LANGUAGES, isLanguage } from './i18n.js';
export type { Language } from './i18n.js';
export type { VpslineErrorCode } from './errors.js';
export { detectVirt, FixtureSource, HostSource } from './virt/detect.js';
export type { DetectOptions } from './virt/detect.js';
export type { VirtSource, Probes, Read } from './virt/source.js';
export type {
  VirtReport,
  ContainerLayer,
  VmLayer,
  ProviderLayer,
  Capabilities,
  Evidence as VirtEvidence,
} from './virt/types.js';
export { renderVirt } from './virt/render.js';
