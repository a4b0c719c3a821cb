import * as torch from '@hcc/torch';
import type { Tensor } from '@hcc/torch';
import { resampleDataToShape, resampleLabelsToShape, shapeForSpacing } from '../imaging/ops/resample.js';
import { sameGrid, type Vec3, type Volume } from '../imaging/volume.js';
import { HccError } from '../util/errors.js';
import { StepClock } from './clock.js';
import { nonzeroBox, xyz, zyx, type IntensityProperties, type Plans, type ZYX } from './plans.js';

/**
 * nnU-Net's DefaultPreprocessor.run_case_npy: crop to non-zero -> normalise -> resample (transpose is the
 * identity in our plans). Arrays are C-order (z, y, x), as a Volume's data already is.
 */

export interface CaseProperties {
  /** (x, y, z) shape of the input grid, and the crop box on it. */
  shapeBeforeCropping: Vec3;
  bbox: { start: Vec3; end: Vec3 };
  shapeAfterCropping: Vec3;
  spacing: Vec3;
}

export interface PreprocessedCase {
  /** One float32 array per channel, C order (z, y, x) of `shape`. */
  channels: Float32Array[];
  shape: ZYX;
  labels?: Uint8Array;
  properties: CaseProperties;
}

/**
 * CTNormalization of a float32 tensor: clip to the dataset's foreground 0.5/99.5 percentiles, subtract the mean,
 * divide by the SD, each step rounded to float32 as nnU-Net's numpy code (a division, not a multiplication by
 * the reciprocal; the tests check the result bit for bit against that arithmetic).
 */
export function ctNormalizeTensor(t: Tensor, p: IntensityProperties): Tensor {
  const f = Math.fround;
  return t.clamp(f(p.percentile_00_5), f(p.percentile_99_5)).sub_(f(p.mean)).div_(f(Math.max(p.std, 1e-8)));
}

/** CTNormalization of plain values, float32 out. */
export function ctNormalize(data: ArrayLike<number>, p: IntensityProperties): Float32Array {
  return torch.tidy(() => ctNormalizeTensor(torch.fromArray(Float32Array.from(data)), p).toArray() as Float32Array);
}

/** The voxels of `volume` inside `box` as a float32 tensor [z, y, x] (a view of the volume's data until converted). */
function cropTensor(volume: Volume, box: { start: Vec3; end: Vec3 }): Tensor {
  const [nx, ny, nz] = volume.shape;
  const d = volume.data;
  // fromBlob takes these types without a copy; the others (uint16, uint32) are widened first.
  const blob = d instanceof Uint16Array || d instanceof Uint32Array ? Float64Array.from(d) : d;
  const t = torch.fromBlob(blob, [nz, ny, nx]);
  const [x0, y0, z0] = box.start;
  const [x1, y1, z1] = box.end;
  return t.narrow(0, z0, z1 - z0).narrow(1, y0, y1 - y0).narrow(2, x0, x1 - x0).to('float32');
}

/** ZScoreNormalization (non-CT channels): the image's own mean and SD. */
export function zscoreNormalize(data: ArrayLike<number>): Float32Array {
  let s = 0;
  for (let i = 0; i < data.length; i++) s += data[i]!;
  const mean = s / data.length;
  let ss = 0;
  for (let i = 0; i < data.length; i++) ss += (data[i]! - mean) ** 2;
  const std = Math.max(Math.sqrt(ss / data.length), 1e-8);
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = (data[i]! - mean) / std;
  return out;
}

function cropArray(data: ArrayLike<number>, shape: Vec3, box: { start: Vec3; end: Vec3 }): Float32Array {
  const [nx, ny] = shape;
  const [ox, oy, oz] = box.end.map((e, a) => e - box.start[a]!);
  const out = new Float32Array(ox! * oy! * oz!);
  let p = 0;
  for (let k = 0; k < oz!; k++) for (let j = 0; j < oy!; j++) {
    const row = box.start[0] + nx * (box.start[1] + j + ny * (box.start[2] + k));
    for (let i = 0; i < ox!; i++) out[p++] = data[row + i]!;
  }
  return out;
}

export function checkChannels(channels: Volume[], plans: Plans, what = 'input'): void {
  const expected = plans.configuration.normalization_schemes.length;
  if (channels.length !== expected) {
    throw new HccError(`${what}: the model expects ${expected} input channel(s), got ${channels.length}`);
  }
  for (let c = 1; c < channels.length; c++) {
    if (!sameGrid(channels[0]!, channels[c]!, 1e-3)) {
      throw new HccError(`${what}: channel ${c} is not on channel 0's grid; bring the phases onto one grid first (CONTRACTS.md)`);
    }
  }
}

/** One case preprocessed with the plans: crop, normalise each channel, resample to the plans' spacing. */
export function preprocessCase(channels: Volume[], plans: Plans, labels?: Volume, clock = new StepClock(), stepPrefix = 'preprocess'): PreprocessedCase {
  checkChannels(channels, plans);
  const first = channels[0]!;
  const bbox = clock.time(`${stepPrefix}.crop_box`, () => nonzeroBox(channels));
  const cropShape = bbox.end.map((e, a) => e - bbox.start[a]!) as Vec3;
  const target = xyz(plans.configuration.spacing);
  const outShape = shapeForSpacing(cropShape, first.spacing, target);
  const sameShape = outShape.every((n, a) => n === cropShape[a]);
  const out = channels.map((ch, c) => torch.tidy(() => {
    const scheme = plans.configuration.normalization_schemes[c];
    const props = plans.foreground_intensity_properties_per_channel[String(c)];
    let norm: Tensor;
    if (scheme === 'CTNormalization') {
      if (!props) throw new HccError(`plans: foreground_intensity_properties_per_channel["${c}"] is missing; CTNormalization needs it`);
      norm = clock.time(`${stepPrefix}.crop_normalise`, () => ctNormalizeTensor(cropTensor(ch, bbox), props));
    } else if (scheme === 'ZScoreNormalization') {
      norm = clock.time(`${stepPrefix}.crop_normalise`, () => torch.fromArray(zscoreNormalize(cropArray(ch.data, ch.shape, bbox))));
    } else throw new HccError(`plans: normalization scheme '${scheme}' is not supported (CTNormalization, ZScoreNormalization)`);
    const values = norm.contiguous().toArray() as Float32Array;
    // nnU-Net's resample_data_or_seg_to_shape returns the array untouched when the shape does not change.
    return sameShape ? values : clock.time(`${stepPrefix}.resample`, () => resampleDataToShape(values, cropShape, outShape, first.spacing, target, 3));
  }));
  let seg: Uint8Array | undefined;
  if (labels) {
    if (!sameGrid(first, labels, 1e-3)) throw new HccError('labels: not on the image grid');
    const cropped = Uint8Array.from(cropArray(labels.data, labels.shape, bbox));
    seg = sameShape ? cropped : resampleLabelsToShape(cropped, cropShape, outShape, first.spacing, target, 'linear') as Uint8Array;
  }
  return {
    channels: out,
    shape: zyx(outShape),
    labels: seg,
    properties: { shapeBeforeCropping: [...first.shape] as Vec3, bbox, shapeAfterCropping: cropShape, spacing: [...first.spacing] as Vec3 },
  };
}
