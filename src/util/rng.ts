/**
 * Seeded random numbers for every random step in hcc-iat (cohorts, phantoms, splits, bootstrap, augmentation).
 *
 * xoshiro128** with 32-bit integer arithmetic, which is fast in JS and identical on every platform. Independent
 * streams come from `Rng.stream(seed, ...keys)`: the keys (a patient index, a stage name) are mixed into the
 * state with splitmix32, so patient 17 gets the same numbers whether it is generated alone, in order, or by any
 * of K workers. That is what makes cohorts bit-identical whatever the worker count.
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | null = null;

  private constructor(s: [number, number, number, number]) {
    [this.s0, this.s1, this.s2, this.s3] = s;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A stream determined by an integer seed and any number of keys (integers or strings). */
  static stream(seed: number, ...keys: Array<number | string>): Rng {
    let h = splitmix32(seed >>> 0 ^ Math.floor(seed / 2 ** 32) * 0x9e3779b9);
    for (const key of keys) {
      const k = typeof key === 'number' ? key : stringHash(key);
      h = splitmix32((h ^ (k >>> 0)) + Math.imul(Math.floor(k / 2 ** 32) | 0, 0x85ebca6b));
    }
    const state: [number, number, number, number] = [0, 0, 0, 0];
    for (let i = 0; i < 4; i++) {
      h = splitmix32(h + 0x9e3779b9);
      state[i] = h;
    }
    return new Rng(state);
  }

  /** A child stream, for handing a sub-task its own numbers without disturbing this one's sequence. */
  fork(...keys: Array<number | string>): Rng {
    return Rng.stream(this.nextUint32(), ...keys);
  }

  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /**
   * Fills `out` with the next out.length values of nextUint32 (the same numbers, and the stream continues after
   * them): the state stays in locals, several times faster for the millions of draws of image noise.
   */
  fillUint32(out: Uint32Array): void {
    let s0 = this.s0, s1 = this.s1, s2 = this.s2, s3 = this.s3;
    for (let i = 0; i < out.length; i++) {
      out[i] = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = rotl(s3, 11);
    }
    [this.s0, this.s1, this.s2, this.s3] = [s0, s1, s2, s3];
  }

  /** Uniform on [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform on [a, b). */
  uniformIn(a: number, b: number): number {
    return a + (b - a) * this.uniform();
  }

  /** Integer uniform on [0, n), without modulo bias. */
  int(n: number): number {
    if (!(n >= 1) || !Number.isInteger(n) || n > 2 ** 32) throw new RangeError(`Rng.int: n must be an integer in [1, 2^32], got ${n}`);
    const limit = 2 ** 32 - (2 ** 32 % n);
    let x: number;
    do x = this.nextUint32();
    while (x >= limit);
    return x % n;
  }

  /** Standard normal (Marsaglia polar method; the spare value is kept, so draws come in deterministic pairs). */
  normal(mean = 0, sd = 1): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return mean + sd * z;
    }
    let u: number, v: number, s: number;
    do {
      u = 2 * this.uniform() - 1;
      v = 2 * this.uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareNormal = v * f;
    return mean + sd * u * f;
  }

  bernoulli(p: number): boolean {
    return this.uniform() < p;
  }

  /** Fisher-Yates shuffle in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function stringHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
