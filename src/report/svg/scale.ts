/** A linear map from a data domain to a pixel range, with d3-style "nice" ticks. */
export interface LinearScale {
  (value: number): number;
  domain: [number, number];
  range: [number, number];
  ticks(count?: number): number[];
}

export function tickStep(start: number, stop: number, count: number): number {
  const raw = Math.abs(stop - start) / Math.max(1, count);
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const error = raw / power;
  const factor = error >= 7.07 ? 10 : error >= 3.16 ? 5 : error >= 1.41 ? 2 : 1;
  return factor * power;
}

export function linearScale(domain: [number, number], range: [number, number]): LinearScale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0 || 1;
  const scale = ((v: number) => r0 + ((v - d0) / span) * (r1 - r0)) as LinearScale;
  scale.domain = domain;
  scale.range = range;
  scale.ticks = (count = 5) => {
    if (!(d1 > d0)) return [d0];
    const step = tickStep(d0, d1, count);
    const first = Math.ceil(d0 / step - 1e-9);
    const last = Math.floor(d1 / step + 1e-9);
    const out: number[] = [];
    for (let i = first; i <= last; i++) out.push(Number((i * step).toPrecision(12)));
    return out;
  };
  return scale;
}

/** Log scale for hazard ratios: ticks at 0.1, 0.2, 0.5, 1, 2, 5, ... inside the domain. */
export function logScale(domain: [number, number], range: [number, number]): LinearScale {
  const inner = linearScale([Math.log(domain[0]), Math.log(domain[1])], range);
  const scale = ((v: number) => inner(Math.log(v))) as LinearScale;
  scale.domain = domain;
  scale.range = range;
  scale.ticks = () => {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(domain[0])); e <= Math.ceil(Math.log10(domain[1])); e++) {
      for (const m of [1, 2, 5]) {
        const v = m * Math.pow(10, e);
        if (v >= domain[0] * (1 - 1e-9) && v <= domain[1] * (1 + 1e-9)) out.push(Number(v.toPrecision(6)));
      }
    }
    return out;
  };
  return scale;
}

/** Shortest label that tells neighbouring ticks apart. */
export function formatTick(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1e4 || abs < 1e-3) return value.toExponential(0);
  return Number(value.toPrecision(4)).toString();
}
