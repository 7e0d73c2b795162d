// The "why" of each capability and note, in English and Chinese. Checks emit a
// code and its parameters; the JSON carries both the code and the English text.
import type { Language, TextParams, Texts } from '../i18n.js';

export type ReasonParams = TextParams;

export const REASONS = {
  'modules.container': {
    en: (p) => `${p.name} shares the host's kernel: only the host loads modules`,
    zh: (p) => `${p.name} 与宿主共用内核：只有宿主能加载模块`,
  },
  'modules.wsl1': {
    en: () => 'WSL1 translates Linux calls inside Windows: there is no Linux kernel to load modules into',
    zh: () => 'WSL1 在 Windows 内转译 Linux 调用：没有 Linux 内核，无法加载模块',
  },
  'modules.unsupported': {
    en: () => 'the kernel is built without module support (/proc/modules is absent)',
    zh: () => '内核编译时未启用模块支持（没有 /proc/modules）',
  },
  'modules.disabled': {
    en: () => 'module loading is switched off (kernel.modules_disabled = 1)',
    zh: () => '模块加载已被关闭（kernel.modules_disabled = 1）',
  },
  'modules.nocap': {
    en: () => 'CAP_SYS_MODULE is not in the bounding set: even root cannot load modules here',
    zh: () => '边界能力集中没有 CAP_SYS_MODULE：root 也无法加载模块',
  },
  'modules.unknown': {
    en: () => 'could not read /proc/modules or the capability set',
    zh: () => '无法读取 /proc/modules 或能力集',
  },
  'modules.yes': {
    en: () => 'own kernel with module support; root can load modules',
    zh: () => '独立内核且支持模块，root 可加载',
  },
  'bbr.available': {
    en: () => 'bbr is in tcp_available_congestion_control',
    zh: () => 'tcp_available_congestion_control 中有 bbr',
  },
  'bbr.module': {
    en: () => 'tcp_bbr is installed as a module: modprobe tcp_bbr, then set net.ipv4.tcp_congestion_control=bbr',
    zh: () => '已安装 tcp_bbr 模块：modprobe tcp_bbr 后设置 net.ipv4.tcp_congestion_control=bbr',
  },
  'bbr.oldkernel': {
    en: (p) => `kernel ${p.release} is older than 4.9, which brought BBR`,
    zh: (p) => `内核 ${p.release} 早于 4.9，不支持 BBR`,
  },
  'bbr.hostonly': {
    en: () => "not offered by the host's kernel, and a container cannot load it",
    zh: () => '宿主内核未提供，容器内也无法加载',
  },
  'bbr.missing': {
    en: () => 'not in this kernel and no tcp_bbr module found',
    zh: () => '内核中没有，也找不到 tcp_bbr 模块',
  },
  'bbr.unknown': {
    en: () => 'could not read tcp_available_congestion_control',
    zh: () => '无法读取 tcp_available_congestion_control',
  },
  'bbr.hidden': { en: () => 'no TCP congestion-control settings visible', zh: () => '看不到 TCP 拥塞控制设置' },
  'bbr.inuse': { en: () => ' (in use)', zh: () => '（正在使用）' },
  'bbr.current': { en: (p) => ` (in use: ${p.current})`, zh: (p) => `（当前使用 ${p.current}）` },
  'tun.yes': {
    en: () => '/dev/net/tun opens (creating an interface also needs CAP_NET_ADMIN)',
    zh: () => '/dev/net/tun 可以打开（创建网卡还需 CAP_NET_ADMIN）',
  },
  'tun.nodriver': {
    en: () => '/dev/net/tun exists but no driver answers',
    zh: () => '/dev/net/tun 存在但没有驱动响应',
  },
  'tun.denied': {
    en: () => '/dev/net/tun exists but this user may not open it',
    zh: () => '/dev/net/tun 存在但当前用户无权打开',
  },
  'tun.container': {
    en: () => 'no /dev/net/tun: ask the host to pass it into the container',
    zh: () => '没有 /dev/net/tun：需要宿主为容器开启',
  },
  'tun.missing': {
    en: () => 'no /dev/net/tun (the tun driver is not loaded)',
    zh: () => '没有 /dev/net/tun（未加载 tun 驱动）',
  },
  'nested.status': {
    en: (p) => {
      const flag =
        p.flag === 'yes'
          ? 'the CPU shows vmx/svm'
          : p.flag === 'no'
            ? 'the CPU shows no vmx/svm'
            : 'CPU flags unreadable';
      const kvm = p.kvm === 'yes' ? '/dev/kvm is present' : 'no /dev/kvm';
      const nested = p.nested ? `, kvm nested=${p.nested}` : '';
      const extra =
        p.extra === 'pv'
          ? ' (a paravirtual KVM such as PVM: VMs run, but slower than with hardware support)'
          : p.extra === 'load'
            ? ' (load kvm_intel/kvm_amd to use it)'
            : '';
      return `${flag}, ${kvm}${nested}${extra}`;
    },
    zh: (p) => {
      const flag = p.flag === 'yes' ? 'CPU 有 vmx/svm' : p.flag === 'no' ? 'CPU 没有 vmx/svm' : '无法读取 CPU 标志';
      const kvm = p.kvm === 'yes' ? '有 /dev/kvm' : '没有 /dev/kvm';
      const nested = p.nested ? `，kvm nested=${p.nested}` : '';
      const extra =
        p.extra === 'pv'
          ? '（半虚拟化 KVM，如 PVM：能开虚拟机，但比硬件虚拟化慢）'
          : p.extra === 'load'
            ? '（加载 kvm_intel/kvm_amd 后可用）'
            : '';
      return `${flag}，${kvm}${nested}${extra}`;
    },
  },
  'swap.unknown': { en: () => 'could not read /proc/meminfo', zh: () => '无法读取 /proc/meminfo' },
  'swap.status': {
    en: (p) => {
      const amount = Number(p.mib) > 0 ? `${p.mib} MiB of swap` : 'no swap';
      const vswap = p.vswap ? " (OpenVZ's virtual swap: memory slowed down on purpose, not disk)" : '';
      const add =
        p.add === 'yes'
          ? 'you can add a swap file'
          : p.add === 'no'
            ? 'a container cannot add swap'
            : 'whether swap can be added is unknown';
      return `${amount}${vswap}; ${add}`;
    },
    zh: (p) => {
      const amount = Number(p.mib) > 0 ? `${p.mib} MiB 交换空间` : '没有交换空间';
      const vswap = p.vswap ? '（OpenVZ 的虚拟 swap：故意降速的内存，不是磁盘）' : '';
      const add =
        p.add === 'yes' ? '可以自己添加 swap 文件' : p.add === 'no' ? '容器内无法添加 swap' : '能否添加 swap 未知';
      return `${amount}${vswap}；${add}`;
    },
  },
  'steal.unknown': { en: () => 'could not read /proc/stat', zh: () => '无法读取 /proc/stat' },
  'steal.status': {
    en: (p) =>
      `${p.percent} % of CPU time taken by the host${p.ms ? ` over ${p.ms} ms` : ' since boot'}` +
      `${p.busy ? ': a busy, probably oversold host' : ''}`,
    zh: (p) =>
      `${p.ms ? `${p.ms} 毫秒内` : '开机以来'}有 ${p.percent} % 的 CPU 时间被宿主占用${p.busy ? '：宿主繁忙，很可能超售' : ''}`,
  },
  'balloon.yes': {
    en: (p) => `${p.driver}: the host can take memory back while the machine runs`,
    zh: (p) => `${p.driver}：宿主可在运行中收回内存`,
  },
  'balloon.no': { en: () => 'no balloon device seen', zh: () => '未发现气球设备' },
  'ubc.none': {
    en: () => 'not an OpenVZ container (no /proc/user_beancounters)',
    zh: () => '不是 OpenVZ 容器（没有 /proc/user_beancounters）',
  },
  'ubc.denied': { en: () => '/proc/user_beancounters needs root', zh: () => '读取 /proc/user_beancounters 需要 root' },
  'ubc.failures': {
    en: (p) => `refusals counted: ${p.list} (overselling pressure)`,
    zh: (p) => `资源被拒绝次数：${p.list}（超售压力）`,
  },
  'ubc.clean': { en: () => 'no refusals counted', zh: () => '没有资源被拒绝的记录' },
  'note.artifact': {
    en: (p) =>
      `Ignored ${p.files}: container markers that what the kernel shows contradicts (the evidence says why; ` +
      `tools that trust them alone, like systemd-detect-virt, say "${p.means}" here).`,
    zh: (p) =>
      `已忽略 ${p.files}：内核呈现的状态与这些容器标记文件相矛盾（原因见依据；只看标记文件的工具，如 systemd-detect-virt，会误报为 "${p.means}"）。`,
  },
  'note.ovzOnVm': {
    en: () => 'The OpenVZ host itself is a virtual machine: two layers of overselling.',
    zh: () => 'OpenVZ 宿主本身也是虚拟机：两层超售。',
  },
  'note.hiddenBit': {
    en: () => 'The CPU hides the hypervisor bit, but the firmware names the hypervisor.',
    zh: () => 'CPU 隐藏了 hypervisor 标志，但固件写明了虚拟化平台。',
  },
  'note.root': {
    en: () =>
      'Run as root to tell KVM-based microVMs (Firecracker, Cloud Hypervisor) from QEMU/KVM: ' +
      'their ACPI tables are root-only.',
    zh: () => '以 root 运行才能区分 Firecracker、Cloud Hypervisor 等微虚拟机与 QEMU/KVM：ACPI 表只有 root 可读。',
  },
  'note.denied': {
    en: (p) => `Unreadable here (counted as unknown, not as "no"): ${p.files}.`,
    zh: (p) => `无法读取（记为未知，而不是"否"）：${p.files}。`,
  },
} satisfies Record<string, Texts>;

export type ReasonCode = keyof typeof REASONS;

export interface Reason {
  code: ReasonCode;
  params: ReasonParams;
}

export function say(code: ReasonCode, params: ReasonParams = {}, lang: Language = 'en'): string {
  return REASONS[code][lang](params);
}
