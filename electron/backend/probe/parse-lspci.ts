/** One device from `lspci -mm -nn -D`: names with their PCI ids. */
export interface LspciDevice {
  slot: string;
  classCode: string; // 4 hex digits, 0300 = VGA compatible controller
  className: string;
  vendorId: string;
  vendorName: string;
  deviceId: string;
  deviceName: string;
}

/**
 * `0000:01:00.0 "VGA compatible controller [0300]" "NVIDIA Corporation [10de]" "GA102 [GeForce RTX 3090] [2204]" -ra1 "Dell [1028]" "Device [3842]"`
 * null when the line is not in that shape (BusyBox lspci, or plain `lspci`).
 */
export function parseLspciLine(line: string): LspciDevice | null {
  const tokens = [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => ({ quoted: m[1] !== undefined, text: m[1] ?? m[2] ?? '' }));
  const slot = tokens[0];
  if (!slot || slot.quoted || !/^([0-9a-fA-F]{4,}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$/.test(slot.text)) return null;
  const quoted = tokens.slice(1).filter((t) => t.quoted);
  const [cls, vendor, device] = quoted.map((t) => splitId(t.text));
  if (!cls || !vendor || !device || cls.id.length !== 4) return null;
  return {
    slot: slot.text.toLowerCase(),
    classCode: cls.id,
    className: cls.name,
    vendorId: vendor.id,
    vendorName: vendor.name,
    deviceId: device.id,
    deviceName: device.name,
  };
}

/** "NVIDIA Corporation [10de]" → name and id; "Device [1111]" keeps "Device" (no name in pci.ids). */
function splitId(text: string): { name: string; id: string } | null {
  const match = /^(.*?)\s*\[([0-9a-fA-F]{4})\]$/.exec(text);
  return match ? { name: match[1] ?? '', id: (match[2] ?? '').toLowerCase() } : null;
}

/** Display controllers: VGA (0300), XGA (0301), 3D (0302, NVIDIA compute boards), other (0380). */
export function isDisplayClass(classCode: string): boolean {
  return /^03[0-9a-f]{2}$/i.test(classCode);
}

/** Names for the vendors whose GPUs turn up on servers, for hosts without lspci. */
export const PCI_VENDOR_NAMES: Readonly<Record<string, string>> = {
  '10de': 'NVIDIA Corporation',
  '1002': 'Advanced Micro Devices, Inc. [AMD/ATI]',
  '8086': 'Intel Corporation',
  '102b': 'Matrox Electronics Systems Ltd.',
  '1a03': 'ASPEED Technology, Inc.',
  '1af4': 'Red Hat, Inc.',
  '1b36': 'Red Hat, Inc.',
  '1234': 'QEMU',
  '15ad': 'VMware',
  '1414': 'Microsoft Corporation',
  '80ee': 'InnoTek Systemberatung GmbH',
  '1013': 'Cirrus Logic',
  '19e5': 'Huawei Technologies Co., Ltd.',
  '1e3e': 'Iluvatar CoreX',
  '1d17': 'Zhaoxin',
};
