/**
 * A real CT segmented by a phantom-trained model, as a PNG overlay for docs/segmentation.md.
 *
 *   TORCH_NUM_THREADS=1 node dist/bench/segmentation/overlay.js --model DIR --ct <dicom-folder|nifti> --out PNG [--slice k]
 *     [--reference liver.nii.gz]
 *
 * A single-phase CT given to a two-phase model is fed as both phases (stated in the docs next to the image).
 * Without --slice, the slice with the most liver is drawn. With --reference (a liver mask in any geometry, e.g.
 * the dcmqi example's mask converted from its NRRD), the liver Dice against it is printed, the reference being
 * sampled onto the CT grid by nearest neighbour in world coordinates.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { openImage } from '../../src/imaging/dicom/open.js';
import { dice } from '../../src/imaging/metrics.js';
import { readNiftiSync } from '../../src/imaging/nifti/read.js';
import { labelMask } from '../../src/imaging/ops/mask-volume.js';
import { resampleLabelsToGrid } from '../../src/imaging/ops/resample.js';
import { axialSlicePng } from '../../src/imaging/png.js';
import { segmentCase } from '../../src/segmentation/infer.js';
import { loadSegmentationModel } from '../../src/segmentation/model.js';

const { values } = parseArgs({ options: { model: { type: 'string' }, ct: { type: 'string' }, out: { type: 'string' }, slice: { type: 'string' }, reference: { type: 'string' } } });
if (!values.model || !values.ct || !values.out) throw new Error('--model, --ct and --out are required');
const model = loadSegmentationModel(values.model);
const ct = (await openImage(values.ct)).volume;
const t0 = performance.now();
const res = segmentCase(model, { art: ct, pv: ct });
const seconds = (performance.now() - t0) / 1000;
const [nx, ny, nz] = ct.shape;
let slice = values.slice === undefined ? -1 : Number(values.slice);
if (slice < 0) {
  let best = -1;
  for (let k = 0; k < nz; k++) {
    let n = 0;
    for (let i = k * nx * ny; i < (k + 1) * nx * ny; i++) if (res.labels.data[i]! > 0) n++;
    if (n > best) [best, slice] = [n, k];
  }
}
writeFileSync(values.out, axialSlicePng(ct, { slice, labels: res.labels, alpha: 0.4 }));
let liverDice: number | null = null;
if (values.reference) {
  const ref = resampleLabelsToGrid(readNiftiSync(values.reference), { shape: ct.shape, affine: ct.affine });
  liverDice = dice(labelMask(res.labels.data, 1, 2), labelMask(ref.data, 1));
}
console.log(JSON.stringify({ out: values.out, slice, seconds, liverDice, shape: ct.shape, spacing: ct.spacing, timing: res.timing, measurements: res.measurements, warnings: res.warnings }));
