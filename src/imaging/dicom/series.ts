/**
 * DICOM series: find them in a folder tree, describe them without reading pixels, and read one into a Volume.
 *
 * Discovery reads only each file's header (the first 64 KiB, more when the header is longer), skips files that
 * are not DICOM and DICOMDIR indexes, and groups instances by SeriesInstanceUID. Each frame of a multi-frame
 * (Enhanced CT/MR) file becomes one slice with its own per-frame geometry, so classic and enhanced series
 * share one assembly path.
 */
import { closeSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { HccError } from '../../util/errors.js';
import { sha256 } from '../../util/hash.js';
import { createProgress } from '../../util/progress.js';
import type { Vec3, Volume, VoxelArray } from '../volume.js';
import { lpsToRasAffine, spacingFromAffine } from '../affine.js';
import { type SlicePlacement, stackGeometry } from './geometry.js';
import { applyTiltCorrection } from './tilt.js';
import { type DataSet, NotDicomError, type ParsedFile, parseDicom, TruncatedError } from './parse.js';
import { phaseHints, type PhaseHints } from './phase.js';
import { DecodePool, decodeThreads } from './codecs/pool.js';
import { decodeFrame, pixelFormat, type StoredFrame, transferSyntaxName, usesCodecPool } from './pixels.js';
import { Tag } from './tags.js';

const DICOMDIR_CLASS = '1.2.840.10008.1.3.10';
const HEADER_BYTES = 64 * 1024;

export interface SliceRef extends SlicePlacement {
  path: string;
  /** 0-based frame within a multi-frame file. */
  frame: number;
  /** Frames in the file (1 for classic single-frame instances). */
  frames: number;
  sopInstanceUid?: string;
  sopClassUid?: string;
  instanceNumber?: number;
  slope: number;
  intercept: number;
}

export interface SeriesInfo {
  seriesUid: string;
  studyUid?: string;
  frameOfReferenceUid?: string;
  modality?: string;
  seriesNumber?: number;
  description?: string;
  transferSyntaxes: string[];
  rows?: number;
  columns?: number;
  /** True when the instances hold pixel data a volume can be made of (not SEG, SR, presentation states...). */
  isImage: boolean;
  slices: SliceRef[];
  files: string[];
  hints: PhaseHints;
}

export interface Discovery {
  series: SeriesInfo[];
  /** Files that were not read as part of any series, with the reason (never patient identity). */
  skipped: { path: string; reason: string }[];
}

/** Reads the header of one file: stops before the pixel data, reading the whole file only when needed. */
export function readHeader(path: string): ParsedFile {
  const size = statSync(path).size;
  if (size > HEADER_BYTES) {
    const fd = openSync(path, 'r');
    const head = new Uint8Array(HEADER_BYTES);
    try {
      readSync(fd, head, 0, HEADER_BYTES, 0);
    } finally {
      closeSync(fd);
    }
    try {
      return parseDicom(head, path, { stopAtPixelData: true });
    } catch (err) {
      if (!(err instanceof TruncatedError)) throw err;
    }
  }
  return parseDicom(readFileSync(path), path, { stopAtPixelData: true });
}

function listFiles(root: string): string[] {
  if (!statSync(root).isDirectory()) return [root];
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile()) out.push(p);
    }
  };
  walk(root);
  return out;
}

const vec3 = (v: number[]): Vec3 | undefined => (v.length >= 3 ? [v[0], v[1], v[2]] : undefined);
const orientation = (v: number[]): [Vec3, Vec3] | undefined => (v.length >= 6 ? [[v[0], v[1], v[2]], [v[3], v[4], v[5]]] : undefined);

/** First item of a functional group sequence, looked up in the per-frame item, then the shared one. */
function group(perFrame: DataSet | undefined, shared: DataSet | undefined, tag: number): DataSet | undefined {
  return perFrame?.sequence(tag)[0] ?? shared?.sequence(tag)[0];
}

function slicesOf(file: ParsedFile, path: string): SliceRef[] {
  const ds = file.dataset;
  const frames = Math.max(1, ds.number(Tag.NumberOfFrames, 'IS') ?? 1);
  const common = {
    path,
    frames,
    sopInstanceUid: ds.string(Tag.SOPInstanceUID),
    sopClassUid: ds.string(Tag.SOPClassUID),
    instanceNumber: ds.number(Tag.InstanceNumber, 'IS'),
    gantryTilt: ds.number(Tag.GantryDetectorTilt),
  };
  const shared = ds.sequence(Tag.SharedFunctionalGroupsSequence)[0];
  const perFrame = ds.sequence(Tag.PerFrameFunctionalGroupsSequence);
  if (!shared && perFrame.length === 0) {
    const spacing = ds.numbers(Tag.PixelSpacing);
    return Array.from({ length: frames }, (_, frame) => ({
      ...common,
      frame,
      label: frames > 1 ? `${path} frame ${frame + 1}` : path,
      position: vec3(ds.numbers(Tag.ImagePositionPatient)),
      orientation: orientation(ds.numbers(Tag.ImageOrientationPatient)),
      pixelSpacing: spacing.length >= 2 ? [spacing[0], spacing[1]] : undefined,
      slope: ds.number(Tag.RescaleSlope) ?? 1,
      intercept: ds.number(Tag.RescaleIntercept) ?? 0,
    }));
  }
  return Array.from({ length: frames }, (_, frame) => {
    const item = perFrame[frame];
    const measures = group(item, shared, Tag.PixelMeasuresSequence);
    const transform = group(item, shared, Tag.PixelValueTransformationSequence);
    const spacing = measures?.numbers(Tag.PixelSpacing) ?? [];
    return {
      ...common,
      frame,
      label: `${path} frame ${frame + 1}`,
      position: vec3(group(item, shared, Tag.PlanePositionSequence)?.numbers(Tag.ImagePositionPatient) ?? []),
      orientation: orientation(group(item, shared, Tag.PlaneOrientationSequence)?.numbers(Tag.ImageOrientationPatient) ?? []),
      pixelSpacing: spacing.length >= 2 ? [spacing[0], spacing[1]] : undefined,
      slope: transform?.number(Tag.RescaleSlope) ?? ds.number(Tag.RescaleSlope) ?? 1,
      intercept: transform?.number(Tag.RescaleIntercept) ?? ds.number(Tag.RescaleIntercept) ?? 0,
    };
  });
}

/**
 * Anonymised exports sometimes blank SeriesInstanceUID. Instances in one folder that agree on frame of
 * reference, series number, description, series time and matrix size are then taken as one series, under a
 * stable made-up key ("nouid-" and 12 hex digits) that --series accepts.
 */
function fallbackSeriesKey(ds: DataSet, path: string): string {
  const key = [dirname(path), ds.string(Tag.FrameOfReferenceUID), ds.string(Tag.SeriesNumber), ds.string(Tag.SeriesDescription), ds.string(Tag.SeriesTime), ds.uint16(Tag.Rows), ds.uint16(Tag.Columns)].join('|');
  return `nouid-${sha256(key).slice(0, 12)}`;
}

/**
 * Finds every series under `root` (a folder, searched recursively, or one file). Non-DICOM files and DICOMDIR
 * indexes are skipped and reported; a damaged DICOM file is reported too, never fatal to the others.
 */
export function discoverSeries(root: string): Discovery {
  let files: string[];
  try {
    files = listFiles(root);
  } catch (err) {
    throw new HccError(`${root}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); expected a DICOM file or folder`);
  }
  const bySeries = new Map<string, SeriesInfo>();
  const skipped: Discovery['skipped'] = [];
  for (const path of files) {
    let file: ParsedFile;
    try {
      file = readHeader(path);
    } catch (err) {
      skipped.push({ path, reason: err instanceof NotDicomError ? 'not DICOM' : (err as Error).message.replace(`${path}: `, '') });
      continue;
    }
    const ds = file.dataset;
    if (file.meta.string(Tag.MediaStorageSOPClassUID) === DICOMDIR_CLASS || ds.has(Tag.DirectoryRecordSequence)) {
      skipped.push({ path, reason: 'DICOMDIR index (the files it lists are read directly)' });
      continue;
    }
    const uid = ds.string(Tag.SeriesInstanceUID) ?? fallbackSeriesKey(ds, path);
    let s = bySeries.get(uid);
    if (!s) {
      s = {
        seriesUid: uid,
        studyUid: ds.string(Tag.StudyInstanceUID),
        frameOfReferenceUid: ds.string(Tag.FrameOfReferenceUID),
        modality: ds.string(Tag.Modality),
        seriesNumber: ds.number(Tag.SeriesNumber, 'IS'),
        description: ds.string(Tag.SeriesDescription),
        transferSyntaxes: [],
        rows: ds.uint16(Tag.Rows),
        columns: ds.uint16(Tag.Columns),
        isImage: file.pixelDataOffset !== undefined && ds.string(Tag.Modality) !== 'SEG' && ds.uint16(Tag.Rows) !== undefined,
        slices: [],
        files: [],
        hints: phaseHints(ds),
      };
      bySeries.set(uid, s);
    }
    if (!s.transferSyntaxes.includes(file.transferSyntax)) s.transferSyntaxes.push(file.transferSyntax);
    s.files.push(path);
    s.slices.push(...slicesOf(file, path));
  }
  const series = [...bySeries.values()].sort((a, b) => (a.seriesNumber ?? 1e9) - (b.seriesNumber ?? 1e9) || a.seriesUid.localeCompare(b.seriesUid));
  return { series, skipped };
}

/** A short description for listings: number, description, size; never patient identity. */
export function describeSeries(s: SeriesInfo, root?: string): Record<string, unknown> {
  return {
    seriesUid: s.seriesUid,
    seriesNumber: s.seriesNumber,
    modality: s.modality,
    description: s.description,
    slices: s.slices.length,
    rows: s.rows,
    columns: s.columns,
    transferSyntaxes: s.transferSyntaxes.map((t) => transferSyntaxName(t) ?? t),
    isImage: s.isImage,
    folder: root ? relative(root, s.files[0]).split('/').slice(0, -1).join('/') || '.' : undefined,
    phase: s.hints.phase,
    phaseReasons: s.hints.reasons,
  };
}

export interface ReadOptions {
  /** Show a progress bar (the CLI turns it on for long series). */
  progress?: boolean;
  /** Resample a gantry-tilted stack onto an orthogonal grid instead of refusing it (see tilt.ts). */
  correctTilt?: boolean;
}

/** Reads a series into a Volume: RAS+ affine, voxels in rescaled units (HU for CT), stored axis order kept. */
export async function readSeries(s: SeriesInfo, options: ReadOptions = {}): Promise<Volume> {
  const label = `series ${s.seriesUid}${s.description ? ` (${s.description})` : ''}`;
  if (!s.isImage) {
    throw new HccError(`${s.files[0]}: not an image series (Modality ${s.modality ?? 'unknown'}${s.slices.length ? '' : ', no frames'}); expected CT or MR images with pixel data`);
  }
  const geometry = stackGeometry(s.slices, label, { correctTilt: options.correctTilt });
  const first = s.slices[geometry.order[0]];
  const nx = s.columns!;
  const ny = s.rows!;
  const nz = s.slices.length;
  const perSlice = nx * ny;
  // Typed arrays stop at 2^31 elements in practice; a header claiming more is corrupt or not a CT.
  if (!(perSlice * nz <= 2 ** 31)) throw new HccError(`${first.path}: ${nx}x${ny}x${nz} voxels is more than one volume can hold; expected a CT or MR series`);
  const progress = createProgress({ label: 'reading DICOM', total: nz, unit: 'slices', mode: options.progress ? undefined : 'none' });
  let work: Int16Array | Int32Array | Float32Array | undefined;
  // JPEG 2000 / JPEG-LS: slices decode on worker threads, a few in flight per thread; files are read here.
  const threads = s.transferSyntaxes.every(usesCodecPool) && nz >= 8 ? decodeThreads(nz) : 1;
  const pool = threads > 1 ? new DecodePool(threads) : undefined;
  const inFlight = new Set<Promise<void>>();
  // Multi-frame files stay parsed: their frames need not come in stored order.
  const multiFrame = new Map<string, ParsedFile>();
  try {
    for (let k = 0; k < nz; k++) {
      const slice = s.slices[geometry.order[k]];
      let file = multiFrame.get(slice.path);
      if (!file) {
        file = parseDicom(readFileSync(slice.path), slice.path);
        if (slice.frames > 1) multiFrame.set(slice.path, file);
      }
      const fmt = pixelFormat(file.dataset);
      if (fmt.rows !== ny || fmt.columns !== nx) throw new HccError(`${slice.path}: ${fmt.columns}x${fmt.rows} pixels, but ${first.path} has ${nx}x${ny}; expected one size per series`);
      if (fmt.samplesPerPixel !== 1) throw new HccError(`${slice.path}: ${fmt.photometric} with ${fmt.samplesPerPixel} samples per pixel; expected a greyscale (MONOCHROME) image`);
      const out = (work ??= allocateOutput(s.slices, fmt, perSlice * nz));
      const job = decodeFrame(file, slice.frame, fmt, pool).then((stored) => {
        rescaleInto(out, k * perSlice, stored, slice.slope, slice.intercept);
        progress.tick();
      });
      inFlight.add(job);
      void job.then(() => inFlight.delete(job), () => undefined);
      if (inFlight.size >= 2 * threads) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  } finally {
    // Settle every job before the workers go, so no rejection is left unhandled.
    await Promise.allSettled(inFlight);
    await pool?.close();
  }
  progress.done();
  const tilt = geometry.tilt;
  const data = tilt ? applyTiltCorrection(work!, nx, ny, tilt, first.pixelSpacing![0]) : work!;
  return {
    data: narrow(data),
    shape: tilt ? [nx, ny + tilt.extraRows, tilt.slices] : [nx, ny, nz],
    spacing: spacingFromAffine(geometry.affineLps),
    affine: lpsToRasAffine(geometry.affineLps),
    meta: {
      modality: s.modality,
      seriesUid: s.seriesUid,
      seriesDescription: s.description,
      phase: s.hints.phase,
      source: s.files.length === 1 ? s.files[0] : `${s.files.length} DICOM files`,
      frameOfReferenceUid: s.frameOfReferenceUid,
      studyUid: s.studyUid,
      // Resampled slices no longer correspond to source instances.
      sopInstanceUids: tilt ? undefined : geometry.order.map((i) => s.slices[i].sopInstanceUid ?? ''),
      ...(tilt ? { tiltCorrection: { angleDeg: +tilt.angleDeg.toFixed(3), addedRows: tilt.extraRows, equalisedSpacing: tilt.equalised ? tilt.spacing : undefined } } : {}),
    },
  };
}

/**
 * The output array: int16 when the stored range (from BitsStored) after every slice's rescale is integral and
 * fits, as CT in HU does; int32 when integral but possibly wider (narrowed at the end if the values allow);
 * float32 otherwise.
 */
function allocateOutput(slices: SliceRef[], fmt: ReturnType<typeof pixelFormat>, length: number): Int16Array | Int32Array | Float32Array {
  if (!slices.every((x) => Number.isInteger(x.slope) && Number.isInteger(x.intercept))) return new Float32Array(length);
  const storedLo = fmt.signed ? -(2 ** (fmt.bitsStored - 1)) : 0;
  const storedHi = fmt.signed ? 2 ** (fmt.bitsStored - 1) - 1 : 2 ** fmt.bitsStored - 1;
  const fits = slices.every((x) => {
    const ends = [storedLo * x.slope + x.intercept, storedHi * x.slope + x.intercept];
    return Math.min(...ends) >= -32768 && Math.max(...ends) <= 32767;
  });
  return fits ? new Int16Array(length) : new Int32Array(length);
}

/** A separate, synchronous function so the hot loop is optimised on its own (not inside the async reader). */
function rescaleInto(out: Int16Array | Int32Array | Float32Array, offset: number, stored: StoredFrame, slope: number, intercept: number): void {
  const n = stored.length;
  if (slope === 1) for (let i = 0; i < n; i++) out[offset + i] = stored[i] + intercept;
  else for (let i = 0; i < n; i++) out[offset + i] = stored[i] * slope + intercept;
}

/** Int32 output narrowed to int16 when every value fits. */
function narrow(work: Int16Array | Int32Array | Float32Array): VoxelArray {
  if (!(work instanceof Int32Array)) return work;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < work.length; i++) {
    const v = work[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo >= -32768 && hi <= 32767 ? new Int16Array(work) : work;
}

/**
 * Picks the series to read from a discovery: the one named by `uid`, or the only image series. Several image
 * series and no choice is a usage error that lists them (exit code 2).
 */
export function chooseSeries(found: Discovery, root: string, uid?: string): SeriesInfo {
  const images = found.series.filter((s) => s.isImage);
  if (uid !== undefined) {
    const hit = found.series.find((s) => s.seriesUid === uid);
    if (!hit) throw new HccError(`${root}: no series with SeriesInstanceUID ${uid}; found ${found.series.map((s) => s.seriesUid).join(', ') || 'none'}`, { exitCode: 2 });
    return hit;
  }
  if (images.length === 1) return images[0];
  if (images.length === 0) {
    const why = found.series.length > 0 ? `only non-image DICOM (${found.series.map((s) => s.modality ?? '?').join(', ')})` : found.skipped.length > 0 ? `no readable DICOM (${found.skipped[0].path}: ${found.skipped[0].reason})` : 'no files';
    throw new HccError(`${root}: no image series found: ${why}`);
  }
  const list = images.map((s) => `  ${s.seriesUid}  #${s.seriesNumber ?? '?'} ${s.modality ?? ''} ${s.slices.length} slices ${s.description ?? ''}`.trimEnd()).join('\n');
  throw new HccError(`${root}: ${images.length} image series found; choose one with --series UID:\n${list}`, { exitCode: 2, detail: { series: images.map((s) => describeSeries(s, root)) } });
}
