import { describe, expect, it } from 'vitest';
import { isDisplayClass, parseLspciLine } from '../../../electron/backend/probe/parse-lspci';
import { normalizePciAddress, parseNvidiaSmiGpuLine, parseNvidiaSmiHeader } from '../../../electron/backend/probe/parse-nvidia-smi';

describe('nvidia-smi output', () => {
  it('reads one GPU per --query-gpu line, with memory in MiB', () => {
    expect(parseNvidiaSmiGpuLine('0, NVIDIA A100-SXM4-40GB, 40960, 535.161.08, 00000000:07:00.0')).toEqual({
      index: 0,
      name: 'NVIDIA A100-SXM4-40GB',
      memoryMiB: 40960,
      driverVersion: '535.161.08',
      bus: '0000:07:00.0',
    });
    expect(parseNvidiaSmiGpuLine('1, NVIDIA GeForce RTX 4090, 24564, 550.54.15, 00000000:81:00.0')!.bus).toBe('0000:81:00.0');
  });

  it('keeps a GPU whose memory is not reported, and refuses lines that are not the query', () => {
    expect(parseNvidiaSmiGpuLine('2, NVIDIA GH200 480GB, [N/A], 550.90.07, 00000009:01:00.0')).toMatchObject({
      memoryMiB: null,
      bus: '0009:01:00.0',
    });
    expect(parseNvidiaSmiGpuLine("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.")).toBeNull();
    expect(parseNvidiaSmiGpuLine('x, name, 1, 2, 3')).toBeNull();
  });

  it('takes driver and CUDA versions from the banner', () => {
    expect(parseNvidiaSmiHeader('| NVIDIA-SMI 550.54.15              Driver Version: 550.54.15      CUDA Version: 12.4     |')).toEqual({
      driverVersion: '550.54.15',
      cudaVersion: '12.4',
    });
    expect(parseNvidiaSmiHeader('| NVIDIA-SMI 470.256.02   Driver Version: 470.256.02   CUDA Version: 11.4     |')).toEqual({
      driverVersion: '470.256.02',
      cudaVersion: '11.4',
    });
    expect(parseNvidiaSmiHeader('| NVIDIA-SMI 418.226.00   Driver Version: 418.226.00                         |')).toEqual({
      driverVersion: '418.226.00',
      cudaVersion: null,
    });
  });

  it('writes PCI addresses the way the kernel does', () => {
    expect(normalizePciAddress('00000000:2A:00.0')).toBe('0000:2a:00.0');
    expect(normalizePciAddress('0000:2a:00.0')).toBe('0000:2a:00.0');
    expect(normalizePciAddress('2a:00.0')).toBe('0000:2a:00.0');
    expect(normalizePciAddress('00010000:01:00.1')).toBe('10000:01:00.1');
  });
});

describe('lspci -mm -nn -D output', () => {
  const lines = {
    nvidia:
      '0000:01:00.0 "VGA compatible controller [0300]" "NVIDIA Corporation [10de]" "AD102 [GeForce RTX 4090] [2684]" -ra1 "Micro-Star International Co., Ltd. [MSI] [1462]" "Device [5103]"',
    nvidia3d:
      '0000:3b:00.0 "3D controller [0302]" "NVIDIA Corporation [10de]" "GA100 [A100 PCIe 40GB] [20f1]" -ra1 "NVIDIA Corporation [10de]" "Device [145f]"',
    amd: '0000:03:00.0 "VGA compatible controller [0300]" "Advanced Micro Devices, Inc. [AMD/ATI] [1002]" "Navi 31 [Radeon RX 7900 XT/7900 XTX] [744c]" -rc8 -p00 "Sapphire Technology Limited [1da2]" "Device [471e]"',
    intel:
      '0000:00:02.0 "VGA compatible controller [0300]" "Intel Corporation [8086]" "Alder Lake-S GT1 [UHD Graphics 770] [4680]" -r0c "Dell [1028]" "Device [0ac0]"',
    matrox:
      '0000:09:00.0 "VGA compatible controller [0300]" "Matrox Electronics Systems Ltd. [102b]" "Integrated Matrox G200eW3 Graphics Controller [0536]" -r04 "Dell [1028]" "Device [0a9f]"',
    qemu: '0000:00:01.0 "VGA compatible controller [0300]" "Device [1234]" "Device [1111]" -r02 "Red Hat, Inc. [1af4]" "Device [1100]"',
  };

  it('splits NVIDIA, AMD, Intel and Matrox controllers into names and ids', () => {
    expect(parseLspciLine(lines.nvidia)).toEqual({
      slot: '0000:01:00.0',
      classCode: '0300',
      className: 'VGA compatible controller',
      vendorId: '10de',
      vendorName: 'NVIDIA Corporation',
      deviceId: '2684',
      deviceName: 'AD102 [GeForce RTX 4090]',
    });
    expect(parseLspciLine(lines.nvidia3d)).toMatchObject({
      classCode: '0302',
      className: '3D controller',
      deviceName: 'GA100 [A100 PCIe 40GB]',
    });
    expect(parseLspciLine(lines.amd)).toMatchObject({
      vendorId: '1002',
      vendorName: 'Advanced Micro Devices, Inc. [AMD/ATI]',
      deviceName: 'Navi 31 [Radeon RX 7900 XT/7900 XTX]',
    });
    expect(parseLspciLine(lines.intel)).toMatchObject({ vendorId: '8086', deviceName: 'Alder Lake-S GT1 [UHD Graphics 770]' });
    expect(parseLspciLine(lines.matrox)).toMatchObject({
      vendorId: '102b',
      vendorName: 'Matrox Electronics Systems Ltd.',
      deviceId: '0536',
    });
    expect(parseLspciLine(lines.qemu)).toMatchObject({ vendorName: 'Device', vendorId: '1234', deviceName: 'Device', deviceId: '1111' });
  });

  it('refuses BusyBox and plain lspci lines', () => {
    expect(parseLspciLine('00:02.0 Class 0300: 8086:4680')).toBeNull();
    expect(parseLspciLine('00:02.0 "Class 0300" "8086" "4680" "1028" "0ac0"')).toBeNull();
    expect(parseLspciLine('01:00.0 VGA compatible controller: NVIDIA Corporation AD102 [GeForce RTX 4090] (rev a1)')).toBeNull();
  });

  it('knows which classes are display controllers', () => {
    expect(['0300', '0301', '0302', '0380'].every(isDisplayClass)).toBe(true);
    expect(['0200', '0403', '1200'].some(isDisplayClass)).toBe(false);
  });
});
