import type { Rng } from '../../util/rng.js';
import { addWhiteNoise, gaussianKernel, sweepBlur3d } from './field.js';
import type { ScanGrid, SiteProfile } from './site.js';

/**
 * The scanner: point-spread blur (reconstruction kernel in-plane, slice profile along z, each combined with 0.4
 * voxel for the voxel's own extent, which gives partial volume at every edge) applied to the object and to
 * white noise alike, so the noise is spatially correlated the way the kernel correlates it. The white noise is
 * scaled so that after blurring its SD is this scan's σ. HU are then rounded to Int16 as a scanner stores them.
 */
export interface Scanner {
  /** Image noise SD after blurring (HU), drawn once per scan from the site's range. */
  noiseSdHu: number;
  /** Gaussian PSF SD per axis, in voxels. */
  psfSigmaVoxels: [number, number, number];
  /** Adds noise to `img` (HU, modified in place), blurs it and returns it as Int16 clipped to −1024…3071. */
  acquire(img: Float32Array, noiseRng: Rng): Int16Array;
}

export function scannerFor(grid: ScanGrid, site: SiteProfile, rng: Rng): Scanner {
  const noiseSdHu = rng.uniformIn(site.noiseSdHu[0], site.noiseSdHu[1]);
  const fwhm = [site.kernelFwhmMm, site.kernelFwhmMm, grid.sliceThicknessMm];
  const sigma = [0, 1, 2].map((a) => Math.sqrt((fwhm[a]! / 2.355) ** 2 + (0.4 * grid.spacing[a]!) ** 2) / grid.spacing[a]!) as [number, number, number];
  // The blur scales white noise's SD by √Σk² per axis.
  const gain = sigma.reduce((g, s) => g * Math.sqrt(gaussianKernel(s).reduce((acc, k) => acc + k * k, 0)), 1);
  return {
    noiseSdHu,
    psfSigmaVoxels: sigma,
    acquire(img, noiseRng) {
      // One sweep: noise is added to a slice, the slice is blurred in plane, and each finished slice is rounded.
      const out = new Int16Array(img.length);
      const plane = grid.shape[0] * grid.shape[1];
      const sd = noiseSdHu / gain;
      sweepBlur3d(img, grid.shape, sigma, (_k, slice) => addWhiteNoise(slice, noiseRng, sd), (k, values) => {
        for (let i = 0, v = k * plane; i < plane; i++, v++) {
          // floor(x + 0.5) rounds exactly as Math.round does, and twice as fast here.
          const x = values[i]! + 0.5;
          out[v] = x < -1024 ? -1024 : x > 3071 ? 3071 : Math.floor(x);
        }
      });
      return out;
    },
  };
}
