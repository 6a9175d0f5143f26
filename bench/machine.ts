/** The machine a bench ran on, and CPU use read from /proc (Linux; zeros elsewhere). */
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  totalMemoryBytes: number;
  node: string;
  platform: string;
  kernel: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    totalMemoryBytes: os.totalmem(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    kernel: os.release(),
  };
}

/** Busy and total jiffies of all cores together, from /proc/stat. */
export interface CpuTicks {
  busy: number;
  total: number;
}

export function machineCpuTicks(): CpuTicks | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (values[3] ?? 0) + (values[4] ?? 0);
    const total = values.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/** How many cores' worth of CPU the whole machine used between two readings. */
export function machineCoresBusy(
  from: CpuTicks | undefined,
  to: CpuTicks | undefined,
  cores: number,
): number {
  if (!from || !to || to.total <= from.total) return 0;
  return ((to.busy - from.busy) / (to.total - from.total)) * cores;
}
