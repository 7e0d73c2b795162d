// Every refusal the looking glass answers with: a stable code (what API
// clients switch on, and the metrics' reason label), the figures it quotes,
// and its words in English and Chinese. Bodies are
//   { error: "<English>", code: "<code>", params?: {...}, message: { en, zh } }
// so old clients keep reading `error` and the page shows `message[lang]`.
import type { Language, TextParams } from '../i18n.js';

/** Named kinds of special address space (V4_BLOCKED, V6_BLOCKED in targets.ts). */
const SPACES = {
  'this-network': { en: '"this network"', zh: '“本网络”' },
  private: { en: 'private', zh: '私有' },
  cgnat: { en: 'carrier-grade NAT', zh: '运营商级 NAT' },
  loopback: { en: 'loopback', zh: '环回' },
  'link-local': { en: 'link-local (cloud metadata lives here)', zh: '链路本地（云主机元数据服务在此）' },
  ietf: { en: 'IETF protocol assignments', zh: 'IETF 协议专用' },
  'ietf-v6': {
    en: 'IETF protocol assignments (Teredo, benchmarking, ORCHID)',
    zh: 'IETF 协议专用（Teredo、基准测试、ORCHID）',
  },
  documentation: { en: 'documentation', zh: '文档示例' },
  'relay-6to4': { en: '6to4 relay anycast', zh: '6to4 中继任播' },
  benchmarking: { en: 'benchmarking', zh: '基准测试' },
  multicast: { en: 'multicast', zh: '组播' },
  reserved: { en: 'reserved', zh: '保留' },
  '6to4': { en: '6to4', zh: '6to4' },
} as const satisfies Record<string, Record<Language, string>>;
export type AddressSpace = keyof typeof SPACES;

type P = TextParams;
/** `because`: the refusal of the IPv4 address inside an IPv6 one, in the same language. */
type Words = Record<Language, (p: P, because?: string) => string>;
const space = (p: P, lang: Language): string => SPACES[p.space as AddressSpace]?.[lang] ?? String(p.space);

const TEXT = {
  // ---- targets (400: not a target at all; 403: a target that may not be traced) ----
  'target-empty': { en: () => 'target must be an IP address or a host name.', zh: () => '目标须为 IP 地址或主机名。' },
  'target-too-long': {
    en: () => 'target is too long (at most 253 characters).',
    zh: () => '目标过长（最多 253 个字符）。',
  },
  'target-characters': {
    en: () => 'target may not contain spaces or control characters.',
    zh: () => '目标不能包含空格或控制字符。',
  },
  'target-dash': { en: () => 'target may not start with "-".', zh: () => '目标不能以“-”开头。' },
  'target-ipv6-form': {
    en: () => 'IPv6 targets are plain addresses: no zone (%), brackets or prefix length.',
    zh: () => 'IPv6 目标只写地址本身：不带区域（%）、方括号或前缀长度。',
  },
  'target-ipv6-invalid': {
    en: (p) => `${p.input} is not a valid IPv6 address.`,
    zh: (p) => `${p.input} 不是有效的 IPv6 地址。`,
  },
  'target-ipv4-form': {
    en: (p) => `${p.input} is not a dotted-quad IPv4 address (no short, octal, hexadecimal or integer forms).`,
    zh: (p) => `${p.input} 不是点分四段的 IPv4 地址（不接受简写、八进制、十六进制或整数形式）。`,
  },
  'target-hostname': {
    en: (p) => `${p.input} is not a host name (letters, digits and hyphens, dot-separated, ending in a name).`,
    zh: (p) => `${p.input} 不是主机名（字母、数字和连字符，以点分隔，以名称结尾）。`,
  },
  'target-no-address': {
    en: (p) => `${p.name} has no A or AAAA record.`,
    zh: (p) => `${p.name} 没有 A 或 AAAA 记录。`,
  },
  'target-special': {
    en: (p) => `${p.address} is ${space(p, 'en')} address space.`,
    zh: (p) => `${p.address} 属于${space(p, 'zh')}地址段。`,
  },
  'target-broadcast': { en: (p) => `${p.address} is the broadcast address.`, zh: (p) => `${p.address} 是广播地址。` },
  'target-ipv6-loopback': {
    en: (p) => `${p.address} is the IPv6 loopback address.`,
    zh: (p) => `${p.address} 是 IPv6 环回地址。`,
  },
  'target-unspecified': {
    en: (p) => `${p.address} is the unspecified address.`,
    zh: (p) => `${p.address} 是未指定地址。`,
  },
  'target-embedded-refused': {
    en: (p, because) => `${p.address} is the ${p.form} form of ${p.v4}, and ${because}.`,
    zh: (p, because) => `${p.address} 是 ${p.v4} 的 ${p.form} 形式，而${because}。`,
  },
  'target-embedded': {
    en: (p) => `${p.address} is ${p.form} for ${p.v4}: trace the IPv4 address itself.`,
    zh: (p) => `${p.address} 是 ${p.v4} 的 ${p.form} 形式：请直接追踪该 IPv4 地址。`,
  },
  'target-not-global': {
    en: (p) => `${p.address} is not global unicast IPv6 (${p.range}).`,
    zh: (p) => `${p.address} 不是全球单播 IPv6 地址（${p.range}）。`,
  },
  'target-own-address': {
    en: (p) => `${p.address} is this server's own address.`,
    zh: (p) => `${p.address} 是本服务器自己的地址。`,
  },
  'target-name-refused': {
    en: (p, because) => `${p.name} resolves to ${p.address}, which is refused: ${because}.`,
    zh: (p, because) => `${p.name} 解析到 ${p.address}，该地址被拒绝：${because}。`,
  },
  // ---- who may ask ----
  'token-required': {
    en: () => 'tracing a target other than yourself needs a valid token (Authorization: Bearer ...)',
    zh: () => '追踪你自己以外的目标需要有效令牌（Authorization: Bearer ...）',
  },
  'self-only': {
    en: () => 'this server only traces back to its visitors',
    zh: () => '本服务器只回程追踪到访问者自己',
  },
  'cross-site': {
    en: () => 'cross-site requests are not accepted',
    zh: () => '不接受跨站请求',
  },
  'metrics-forbidden': {
    en: () => 'metrics are served to the addresses in --metrics-allow only',
    zh: () => '监控指标只对 --metrics-allow 中的地址开放',
  },
  // ---- limits ----
  'server-busy': {
    en: (p) => `the server is running ${p.max} traces already; try again in a moment`,
    zh: (p) => `服务器已在运行 ${p.max} 个追踪；请稍后再试`,
  },
  'client-busy': {
    en: (p) => `you have ${p.max} traces running already; wait for one to finish`,
    zh: (p) => `你已有 ${p.max} 个追踪在运行；请等其中一个结束`,
  },
  'target-busy': {
    en: (p) => `${p.address} is being traced ${p.max} times already`,
    zh: (p) => `${p.address} 已在被追踪 ${p.max} 次`,
  },
  'trace-budget': {
    en: (p) => `hourly trace budget used up; try again in ${p.seconds} s`,
    zh: (p) => `每小时追踪额度已用完；请 ${p.seconds} 秒后再试`,
  },
  'upload-budget': {
    en: (p) => `upload budget used up; try again in ${p.seconds} s`,
    zh: (p) => `上传额度已用完；请 ${p.seconds} 秒后再试`,
  },
  'request-rate': {
    en: (p) => `too many requests from your address; try again in ${p.seconds} s`,
    zh: (p) => `你的地址请求过于频繁；请 ${p.seconds} 秒后再试`,
  },
  'streams-total': { en: () => 'too many live viewers on this server', zh: () => '本服务器的实时查看者过多' },
  'streams-client': {
    en: () => 'too many live views open from your address',
    zh: () => '你的地址打开的实时查看过多',
  },
  // ---- requests ----
  'bad-request': { en: (p) => `bad request: ${p.detail}`, zh: (p) => `请求无效：${p.detail}` },
  'unknown-field': {
    en: (p) => `bad request: unknown field "${p.field}"`,
    zh: (p) => `请求无效：未知字段“${p.field}”`,
  },
  'too-large': { en: (p) => String(p.detail), zh: () => '请求内容过大' },
  'uri-too-long': { en: () => 'the address is too long', zh: () => '网址过长' },
  'bad-url': { en: () => 'the address is not a valid URL', zh: () => '网址无效' },
  'not-found': {
    en: (p) => `no such page: ${p.method} ${p.url}`,
    zh: (p) => `没有这个页面：${p.method} ${p.url}`,
  },
  'no-such-trace': { en: () => 'no such trace', zh: () => '没有这个追踪' },
  'no-such-report': { en: () => 'no such report', zh: () => '没有这份报告' },
  'trace-id-unknown': {
    en: () => 'traceId names no trace on this server',
    zh: () => 'traceId 在本服务器上没有对应的追踪',
  },
  'not-yours': {
    en: () => 'only the visitor this trace was measured for may do that (from the same address)',
    zh: () => '只有这次追踪所测的访问者（从同一地址）才能这样做',
  },
  'report-other-trace': {
    en: () => 'this upload belongs to another trace: a link cannot pair them',
    zh: () => '这份上传属于另一次追踪：链接不能把它们配在一起',
  },
  'return-routes-off': {
    en: () => 'this server does not show three-network return routes',
    zh: () => '本服务器未开启三网回程路由',
  },
  // ---- the line watch's pictures ----
  'watch-no-target': {
    en: (p) => `the watch has no target named ${p.target}`,
    zh: (p) => `监测中没有名为 ${p.target} 的目标`,
  },
  'watch-bad-time': {
    en: (p) => `${p.field} must be a date (2026-11-02T20:00+08:00) or milliseconds since 1970`,
    zh: (p) => `${p.field} 须为日期（2026-11-02T20:00+08:00）或 1970 年以来的毫秒数`,
  },
  'watch-bad-range': {
    en: (p) => `the range must run forwards and span at most ${p.days} days`,
    zh: (p) => `时间范围须从早到晚，且最多 ${p.days} 天`,
  },
  'watch-bad-time-zone': {
    en: (p) => `unknown time zone ${p.tz} (an IANA name such as Asia/Shanghai)`,
    zh: (p) => `未知时区 ${p.tz}（请用 IANA 名称，如 Asia/Shanghai）`,
  },
  'watch-no-sample': {
    en: () => 'no sample kept at that time (samples are kept in full for the detail days only)',
    zh: () => '该时间没有保存的样本（完整样本只保留明细天数）',
  },
  // ---- uploaded reports ----
  'report-unreadable': { en: (p) => String(p.detail), zh: (p) => `无法读取这份报告：${p.detail}` },
  'parse-deadline': {
    en: (p) => `reading the trace took longer than ${p.ms} ms: upload one trace`,
    zh: (p) => `读取这份路由追踪超过了 ${p.ms} 毫秒：请只上传一份追踪`,
  },
  'parse-memory': {
    en: (p) => `reading the trace needed more than ${p.mb} MB: upload one trace`,
    zh: (p) => `读取这份路由追踪需要超过 ${p.mb} MB 内存：请只上传一份追踪`,
  },
  'parse-failed': {
    en: () => 'the trace could not be read: upload one trace as mtr or traceroute printed it',
    zh: () => '无法读取这份路由追踪：请按 mtr 或 traceroute 的原样输出上传一份',
  },
  'parse-busy': { en: () => 'too many uploads are being read', zh: () => '正在读取的上传过多；请稍后再试' },
  'shutting-down': { en: () => 'the server is shutting down', zh: () => '服务器正在关闭' },
  internal: { en: () => 'internal error', zh: () => '内部错误' },
} as const satisfies Record<string, Words>;

export type RefusalCode = keyof typeof TEXT;

/** A refusal before it is put in words: its code, figures, and (embedded or named targets) the one inside it. */
export interface Refusal {
  code: RefusalCode;
  params?: P;
  because?: Refusal;
}

/** The refusal in one language. */
export function refusalText(r: Refusal, lang: Language): string {
  const words: Words = TEXT[r.code];
  // A refusal quoted inside another is part of its sentence: without its own full stop.
  const because = r.because ? refusalText(r.because, lang).replace(/[.。]$/, '') : undefined;
  return words[lang](r.params ?? {}, because);
}

/** The JSON body of a refusal. */
export function refusalBody(r: Refusal): {
  error: string;
  code: RefusalCode;
  params?: P;
  message: Record<Language, string>;
} {
  return {
    error: refusalText(r, 'en'),
    code: r.code,
    ...(r.params ? { params: r.params } : {}),
    message: { en: refusalText(r, 'en'), zh: refusalText(r, 'zh') },
  };
}

/** Every code, for tests. */
export const REFUSAL_CODES = Object.keys(TEXT) as RefusalCode[];
