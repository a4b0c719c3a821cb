/**
 * One entry point for "an image path a user gave us": a NIfTI file, a DICOM file, or a folder of DICOM
 * series. Commands that take `--art`, `--pv`, `--mask` or a positional image use this, so they all accept the
 * same inputs and give the same errors.
 */
import { statSync } from 'node:fs';
import { HccError } from '../../util/errors.js';
import { readNifti } from '../nifti/read.js';
import type { Volume } from '../volume.js';
import { hashedUid } from './write.js';
import { profileAction } from './deidentify.js';
import { chooseSeries, discoverSeries, type Discovery, readSeries, type SeriesInfo } from './series.js';
import { Tag } from './tags.js';
import { transferSyntaxName } from './pixels.js';

export function isNiftiPath(path: string): boolean {
  return /\.nii(\.gz)?$/i.test(path);
}

export interface OpenedImage {
  volume: Volume;
  /** Set for DICOM input. */
  series?: SeriesInfo;
  discovery?: Discovery;
}

export interface OpenOptions {
  /** SeriesInstanceUID to pick when the folder holds several series. */
  seriesUid?: string;
  /** Show progress for series of at least this many slices (default: never). */
  progressFrom?: number;
  /** Resample gantry-tilted series instead of refusing them. */
  correctTilt?: boolean;
}

export async function openImage(path: string, options: OpenOptions = {}): Promise<OpenedImage> {
  try {
    statSync(path);
  } catch {
    throw new HccError(`${path}: no such file or folder; expected a NIfTI file (.nii, .nii.gz), a DICOM file or a folder of DICOM files`);
  }
  if (isNiftiPath(path)) return { volume: await readNifti(path) };
  const discovery = discoverSeries(path);
  const series = chooseSeries(discovery, path, options.seriesUid);
  const progress = options.progressFrom !== undefined && series.slices.length >= options.progressFrom;
  return { volume: await readSeries(series, { progress, correctTilt: options.correctTilt }), series, discovery };
}

/** Files that looked like DICOM but could not be read (not the ordinary non-DICOM files), for warnings. */
export function damagedFiles(discovery: Discovery): { path: string; reason: string }[] {
  return discovery.skipped.filter((s) => s.reason !== 'not DICOM' && !s.reason.startsWith('DICOMDIR'));
}

export interface SidecarOptions {
  /** Apply the PS3.15 basic profile: UIDs replaced (keyed by `uidSalt`), descriptions and times removed. */
  deidentify?: { uidSalt: string };
}

/**
 * The metadata written beside a converted image (like dcm2niix's JSON sidecar): what the series is, where it
 * came from and the phase evidence. Never patient identity; with `deidentify`, only what the basic profile
 * keeps.
 */
export function seriesSidecar(series: SeriesInfo, volume: Volume, options: SidecarOptions = {}): Record<string, unknown> {
  const deid = options.deidentify;
  // Each field is tied to its DICOM attribute so the profile's action for that attribute decides.
  const field = (tag: number, value: unknown): unknown => {
    if (value === undefined || !deid) return value;
    const action = profileAction(tag);
    if (action === 'keep') return value;
    if (action === 'U') return hashedUid(deid.uidSalt, String(value));
    return undefined;
  };
  const reasons = series.hints.reasons.filter((r) => !deid || !r.startsWith('SeriesDescription'));
  return {
    source: 'DICOM',
    modality: series.modality,
    seriesInstanceUid: field(Tag.SeriesInstanceUID, series.seriesUid.startsWith('nouid-') ? undefined : series.seriesUid),
    studyInstanceUid: field(Tag.StudyInstanceUID, series.studyUid),
    frameOfReferenceUid: field(Tag.FrameOfReferenceUID, series.frameOfReferenceUid),
    seriesNumber: series.seriesNumber,
    seriesDescription: field(Tag.SeriesDescription, series.description),
    acquisitionSeconds: field(Tag.AcquisitionTime, series.hints.acquisitionSeconds),
    contrastAgent: field(Tag.ContrastBolusAgent, series.hints.contrastAgent),
    phase: series.hints.phase,
    phaseReasons: reasons,
    transferSyntaxes: series.transferSyntaxes.map((t) => transferSyntaxName(t) ?? t),
    slices: series.slices.length,
    shape: volume.shape,
    spacing: volume.spacing,
    affine: volume.affine,
    tiltCorrection: volume.meta.tiltCorrection,
    ...(deid ? { deidentified: 'DICOM PS3.15 E.1 Basic Application Level Confidentiality Profile' } : {}),
  };
}
