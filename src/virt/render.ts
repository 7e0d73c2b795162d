// `vpsline virt` for people: each layer with its evidence, then what it means
// for the owner, in English or Chinese.
import type { Language } from '../i18n.js';
import { say, type Reason } from './reasons.js';
import type { Evidence, VirtReport } from './types.js';

const T = {
  en: {
    container: 'Container',
    vm: 'Virtual machine',
    provider: 'Provider',
    none: { container: 'none (own kernel namespaces)', vm: 'none: bare metal', provider: 'not named by the firmware' },
    unknown: 'unknown (the evidence could not be read)',
    confidence: 'confidence',
    evidence: 'evidence',
    rejected: 'ignored',
    denied: 'unreadable',
    meaning: 'What it means for you',
    yes: 'yes',
    no: 'no',
    unknownShort: 'unknown',
    caps: [
      ['kernelModules', 'Load kernel modules'],
      ['bbr', 'TCP BBR'],
      ['tun', 'TUN/TAP (VPNs)'],
      ['nestedVirtualization', 'Run VMs inside (nested)'],
      ['swap', 'Swap'],
      ['cpuSteal', 'CPU steal'],
      ['memoryBalloon', 'Memory balloon'],
      ['beancounters', 'OpenVZ refusals'],
    ],
    systemdTerms: "In systemd-detect-virt's ids (vpsline's verdict, not a run of it)",
    bareMetalCloud: 'cloud bare metal',
  },
  zh: {
    container: '容器层',
    vm: '虚拟机层',
    provider: '服务商',
    none: { container: '无（独立的内核命名空间）', vm: '无：物理机（独立服务器）', provider: '固件未标明' },
    unknown: '未知（无法读取判断依据）',
    confidence: '可信度',
    evidence: '依据',
    rejected: '已忽略',
    denied: '无法读取',
    meaning: '对你意味着什么',
    yes: '是',
    no: '否',
    unknownShort: '未知',
    caps: [
      ['kernelModules', '加载内核模块'],
      ['bbr', 'TCP BBR 拥塞控制'],
      ['tun', 'TUN/TAP（可搭 VPN）'],
      ['nestedVirtualization', '嵌套虚拟化（可再开虚拟机）'],
      ['swap', '交换分区 Swap'],
      ['cpuSteal', 'CPU 被宿主占用（steal）'],
      ['memoryBalloon', '内存气球（宿主可回收内存）'],
      ['beancounters', 'OpenVZ 资源拒绝计数'],
    ],
    systemdTerms: '用 systemd-detect-virt 的名称表示（vpsline 的判断，并非它的输出）',
    bareMetalCloud: '云上物理机',
  },
} as const;

const CONFIDENCE_ZH: Record<string, string> = { high: '高', medium: '中', low: '低', unknown: '未知' };

/**
 * The first lines: what the machine is, in the words a seller uses, and what
 * that means for the buyer. A container shares the host's kernel; a VM or
 * bare metal has its own. The evidence follows below.
 */
function inShort(r: VirtReport, lang: Language): string[] {
  const c = r.container;
  const v = r.vm;
  const vmName = v.status === 'found' ? (v.name ?? v.type ?? '') : '';
  // gVisor answers system calls with its own user-space kernel: the host's is not shared, nor is one yours.
  const sandbox = c.type === 'gvisor';
  if (lang === 'zh') {
    if (sandbox) return ['简而言之：gVisor 沙箱，系统调用由它自己的用户态内核处理：不能加载内核模块，也不能选 BBR。'];
    if (c.status === 'found')
      return [
        `简而言之：${c.name} 容器${vmName ? `，运行在 ${vmName} 虚拟机里` : ''}。`,
        '它与宿主共用内核：不能加载自己的内核模块，BBR 只有宿主开了才有，内存可能被超售（看到的不一定归你独占）。',
      ];
    if (v.status === 'found')
      return [
        `简而言之：${vmName} 虚拟机，有自己的内核。`,
        '内核模块、BBR 等内核设置由你自己决定；宿主仍可能占用 CPU（steal）或回收内存（气球）。',
      ];
    if (c.status === 'unknown' || v.status === 'unknown') return ['简而言之：无法判断，请看下面的依据。'];
    return ['简而言之：没有发现虚拟化，是一台物理机（独立服务器），内核和硬件都归你。'];
  }
  if (sandbox)
    return [
      'In short: a gVisor sandbox: its own user-space kernel answers the system calls, so there are no kernel ' +
        'modules to load and no BBR to choose.',
    ];
  if (c.status === 'found')
    return [
      `In short: a ${c.name} container${vmName ? `, inside a ${vmName} virtual machine` : ''}.`,
      "It shares the host's kernel: no kernel modules of your own, BBR only if the host turned it on, " +
        'and memory can be oversold (what you see is not necessarily reserved for you).',
    ];
  if (v.status === 'found')
    return [
      `In short: a ${vmName} virtual machine with its own kernel.`,
      'Kernel modules and settings such as BBR are yours to choose; the host can still take CPU time (steal) ' +
        'and memory back (balloon).',
    ];
  if (c.status === 'unknown' || v.status === 'unknown') return ['In short: could not tell; see the evidence below.'];
  return ['In short: no virtualization found: a physical machine (bare metal), its kernel and hardware are yours.'];
}

function evidenceLines(evidence: Evidence[], lang: Language): string[] {
  const t = T[lang];
  return evidence.map((e) => {
    const tag = e.weight === 'rejected' ? ` [${t.rejected}]` : e.weight === 'denied' ? ` [${t.denied}]` : '';
    return `    - ${e.source}: ${e.value} -> ${e.means}${tag}${e.note ? ` (${e.note})` : ''}`;
  });
}

/** Terminal columns: CJK characters take two. */
function columns(s: string): number {
  return [...s].reduce((w, ch) => w + (ch.charCodeAt(0) > 0x2e80 ? 2 : 1), 0);
}

function text(reasons: Reason[], lang: Language): string {
  return reasons.map((r) => say(r.code, r.params, lang)).join('');
}

function yesNo(v: boolean | number | null, lang: Language): string {
  const t = T[lang];
  if (v === null) return t.unknownShort;
  if (typeof v === 'number') return `${v.toFixed(2)} %`;
  return v ? t.yes : t.no;
}

export function renderVirt(r: VirtReport, lang: Language = 'en', verbose = true): string {
  const t = T[lang];
  const conf = (c: string): string => (lang === 'zh' ? (CONFIDENCE_ZH[c] ?? c) : c);
  const out: string[] = [...inShort(r, lang), ''];
  const layer = (title: string, value: string, confidence: string, evidence: Evidence[]): void => {
    out.push(`${title}: ${value}  (${t.confidence}: ${conf(confidence)})`);
    if (verbose && evidence.length) out.push(`  ${t.evidence}:`, ...evidenceLines(evidence, lang));
  };
  const c = r.container;
  layer(
    t.container,
    c.status === 'found' ? `${c.type} — ${c.name}` : c.status === 'unknown' ? t.unknown : t.none.container,
    c.confidence,
    c.evidence,
  );
  const v = r.vm;
  const xen = v.xen ? ` [${v.xen.dom0 ? 'dom0' : (v.xen.mode ?? '?').toUpperCase()}]` : '';
  const on =
    v.hypervisor && v.hypervisor !== v.type
      ? lang === 'zh'
        ? `（基于 ${v.hypervisor}）`
        : ` (on ${v.hypervisor})`
      : '';
  layer(
    t.vm,
    v.status === 'found' ? `${v.type}${xen} — ${v.name}${on}` : v.status === 'unknown' ? t.unknown : t.none.vm,
    v.confidence,
    v.evidence,
  );
  const p = r.provider;
  out.push(`${t.provider}: ${p.name ? `${p.name}${p.bareMetal ? ` (${t.bareMetalCloud})` : ''}` : t.none.provider}`);
  if (verbose && p.evidence.length) out.push(`  ${t.evidence}:`, ...evidenceLines(p.evidence, lang));
  out.push('', `${t.meaning}:`);
  const width = Math.max(...t.caps.map(([, label]) => columns(label)));
  for (const [k, label] of t.caps) {
    const cap = r.capabilities[k];
    if (k === 'beancounters' && cap.value === null && r.container.type !== 'openvz') continue;
    const answer = yesNo(cap.value, lang);
    const labelPad = ' '.repeat(width - columns(label));
    const answerPad = ' '.repeat(Math.max(1, 9 - columns(answer)));
    out.push(`  ${label}${labelPad}  ${answer}${answerPad}${text(cap.reasons, lang)}`);
  }
  const ids = r.systemdTerms;
  out.push('', `${t.systemdTerms}: ${ids.virt} (--vm: ${ids.vm}, --container: ${ids.container})`);
  for (const n of r.noteReasons) out.push(`${lang === 'zh' ? '注意' : 'Note'}: ${text([n], lang)}`);
  return out.join('\n');
}
