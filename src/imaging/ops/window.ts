/**
 * CT intensity windows (level = centre, width in HU), as radiologists set them. Values map linearly from
 * [level - width/2, level + width/2] onto [0, 1] and are clamped outside.
 */
export interface HuWindow {
  level: number;
  width: number;
}

/** Common abdominal presets (Radiopaedia's windowing article: soft tissue W400/L40, liver W150/L30). */
export const HU_WINDOWS = {
  abdomen: { level: 40, width: 400 },
  liver: { level: 30, width: 150 },
} as const satisfies Record<string, HuWindow>;

/** Windowed intensities in [0, 1], float32 (network inputs, feature extraction). */
export function windowToUnit(data: ArrayLike<number>, window: HuWindow): Float32Array {
  if (!(window.width > 0)) throw new RangeError(`HU window width must be positive, got ${window.width}`);
  const lo = window.level - window.width / 2;
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const t = (data[i]! - lo) / window.width;
    out[i] = t < 0 ? 0 : t > 1 ? 1 : t;
  }
  return out;
}

/** Windowed grey levels 0..255 (display, PNG). */
export function windowToUint8(data: ArrayLike<number>, window: HuWindow): Uint8Array {
  const unit = windowToUnit(data, window);
  const out = new Uint8Array(unit.length);
  for (let i = 0; i < unit.length; i++) out[i] = Math.round(unit[i]! * 255);
  return out;
}

/** Intensities clamped to [lo, hi] (e.g. nnU-Net's percentile clipping before z-scoring), float32. */
export function clampIntensities(data: ArrayLike<number>, lo: number, hi: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    out[i] = v < lo ? lo : v > hi ? hi : v;
  }
  return out;
}
