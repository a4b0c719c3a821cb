import { existsSync } from 'node:fs';
import { casePaths } from '../imaging/case.js';
import { openImage } from '../imaging/dicom/open.js';
import { resampleImageToGrid } from '../imaging/ops/resample.js';
import { sameGrid, type Volume } from '../imaging/volume.js';
import { HccError } from '../util/errors.js';

/** Input phases a model can ask for, in CONTRACTS.md's names. */
export type Phase = 'arterial' | 'portal_venous';

export interface CaseImages {
  art?: Volume;
  pv?: Volume;
  labels?: Volume;
}

/** A case prefix P with P_art.nii.gz, P_pv.nii.gz and optionally P_label.nii.gz (CONTRACTS.md "Image cases"). */
export async function readCase(prefix: string, options: { labels?: boolean; phases?: Phase[] } = {}): Promise<CaseImages> {
  const phases = options.phases ?? ['arterial', 'portal_venous'];
  const paths = casePaths(prefix);
  const need = (which: keyof typeof paths) => {
    if (!existsSync(paths[which])) throw new HccError(`${paths[which]}: missing; a case prefix P needs ${paths.art} and ${paths.pv} (and ${paths.label} to train)`);
    return paths[which];
  };
  const out: CaseImages = {};
  if (phases.includes('arterial')) out.art = (await openImage(need('art'))).volume;
  if (phases.includes('portal_venous')) out.pv = (await openImage(need('pv'))).volume;
  if (options.labels) out.labels = (await openImage(need('label'))).volume;
  return out;
}

/**
 * The model's input channels in its order, all on one grid: the first phase's grid (arterial when both are
 * used); the portal-venous series is resampled onto it in world coordinates (trilinear, -1024 HU outside)
 * when the grids differ.
 */
export function channelsFor(images: CaseImages, phases: Phase[]): Volume[] {
  const vols = phases.map((p) => {
    const v = p === 'arterial' ? images.art : images.pv;
    if (!v) throw new HccError(`the model needs the ${p === 'arterial' ? 'arterial (--art)' : 'portal-venous (--pv)'} phase, which was not given; it takes ${phases.join(' + ')}`);
    return v;
  });
  const ref = vols[0]!;
  return vols.map((v) => (sameGrid(v, ref, 1e-3) ? v : resampleImageToGrid(v, { shape: ref.shape, affine: ref.affine }, 1, { fill: -1024 })));
}
