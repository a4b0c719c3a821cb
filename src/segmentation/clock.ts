/**
 * Wall and CPU seconds per named step, summed over calls: the per-stage profile `hcc segment --json` reports.
 * CPU time is the whole process's (every libtorch thread included), which is what matters on a shared server:
 * wall time there depends on what else runs.
 */
export interface StepTime {
  wall: number;
  cpu: number;
  calls: number;
}

export class StepClock {
  readonly steps: Record<string, StepTime> = {};

  /** Runs fn and adds its wall and CPU time to `name` (nested names such as 'stage2.network' are flat keys). */
  time<T>(name: string, fn: () => T): T {
    const w0 = performance.now();
    const c0 = process.cpuUsage();
    try {
      return fn();
    } finally {
      this.record(name, w0, c0);
    }
  }

  /** As `time`, around an async step (its CPU time includes whatever else the process does meanwhile). */
  async timeAsync<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const w0 = performance.now();
    const c0 = process.cpuUsage();
    try {
      return await fn();
    } finally {
      this.record(name, w0, c0);
    }
  }

  private record(name: string, w0: number, c0: NodeJS.CpuUsage): void {
    const c = process.cpuUsage(c0);
    const s = (this.steps[name] ??= { wall: 0, cpu: 0, calls: 0 });
    s.wall += (performance.now() - w0) / 1000;
    s.cpu += (c.user + c.system) / 1e6;
    s.calls++;
  }
}
