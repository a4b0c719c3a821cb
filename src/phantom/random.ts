import type { Rng } from '../util/rng.js';

/** Poisson draw by multiplication of uniforms (Knuth): exact and fast for the small means the phantoms use. */
export function poisson(rng: Rng, mean: number): number {
  if (!(mean >= 0) || mean > 50) throw new RangeError(`poisson: mean must be in [0, 50], got ${mean}`);
  const limit = Math.exp(-mean);
  let k = 0;
  let product = rng.uniform();
  while (product > limit) {
    k++;
    product *= rng.uniform();
  }
  return k;
}

/** Exponential draw with the given rate; 1 − U keeps the logarithm finite. */
export function exponential(rng: Rng, rate: number): number {
  return -Math.log(1 - rng.uniform()) / rate;
}
