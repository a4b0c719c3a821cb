/**
 * `hcc info <file|folder> [--series UID] [--json]`: what an image is. For a NIfTI file or each DICOM image
 * series: shape, spacing, affine, orientation code and intensity range. For a DICOM folder also the series list
 * (non-image objects included), files that could not be read, and the arterial / portal-venous pairing with its
 * reasons. A series that cannot become a volume (tilt, missing slice...) is listed with its error instead.
 */
import { parseArgs } from 'node:util';
import { printJson, type Command } from '../command.js';
import { HccError, usageError } from '../../util/errors.js';
import { damagedFiles, isNiftiPath } from '../../imaging/dicom/open.js';
import { proposePairing } from '../../imaging/dicom/phase.js';
import { describeSeries, discoverSeries, readSeries } from '../../imaging/dicom/series.js';
import { readNifti } from '../../imaging/nifti/read.js';
import { axisCodes } from '../../imaging/orientation.js';
import type { Volume } from '../../imaging/volume.js';

const USAGE = `Usage: hcc info <file|folder> [--series UID] [--correct-tilt] [--json]

For a NIfTI file, or each image series in a DICOM file or folder: shape, spacing (mm), affine (voxel to RAS
mm), orientation code, intensity range. A DICOM folder also gets the series list, unreadable files, and a
proposed arterial / portal-venous pairing with the reasons for it. Patient identity is never printed.

Options:
  --series UID   describe only this series
  --correct-tilt describe gantry-tilted series as hcc convert --correct-tilt would write them
  --json         the same as one JSON document on stdout`;

function summary(volume: Volume): Record<string, unknown> {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of volume.data) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return {
    shape: volume.shape,
    spacing: volume.spacing.map((s) => +s.toFixed(6)),
    affine: volume.affine.map((v) => +v.toFixed(6)),
    orientation: axisCodes(volume.affine),
    type: volume.data.constructor.name.replace('Array', '').toLowerCase(),
    range: [min, max],
    mean: +(sum / volume.data.length).toFixed(3),
  };
}

function printVolume(s: Record<string, unknown>, indent: string): string {
  const a = s.affine as number[];
  const rows = [0, 1, 2].map((r) => a.slice(4 * r, 4 * r + 4).map((v) => v.toFixed(4).padStart(11)).join(''));
  return [
    `${indent}shape ${(s.shape as number[]).join(' x ')}, spacing ${(s.spacing as number[]).map((v) => +v.toFixed(4)).join(' x ')} mm, orientation ${s.orientation}, ${s.type}`,
    `${indent}range ${(s.range as number[]).join(' .. ')}, mean ${s.mean}`,
    `${indent}affine (voxel -> RAS mm):`,
    ...rows.map((r) => `${indent}  ${r}`),
  ].join('\n');
}

export const infoCommand: Command = {
  name: 'info',
  summary: 'Shape, spacing, affine, orientation and range of an image; DICOM series list and phase pairing',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { series: { type: 'string' }, 'correct-tilt': { type: 'boolean' }, json: { type: 'boolean' }, debug: { type: 'boolean' } } });
    if (positionals.length !== 1) throw usageError(`expected one file or folder: hcc info <file|folder> (got ${positionals.length} arguments)`);
    const input = positionals[0];
    if (isNiftiPath(input)) {
      const s = { file: input, format: 'NIfTI', ...summary(await readNifti(input)) };
      if (values.json) printJson(s);
      else process.stdout.write(`${input} (NIfTI)\n${printVolume(s, '  ')}\n`);
      return 0;
    }
    const found = discoverSeries(input);
    const chosen = values.series === undefined ? found.series : found.series.filter((s) => s.seriesUid === values.series);
    if (values.series !== undefined && chosen.length === 0) throw new HccError(`${input}: no series with SeriesInstanceUID ${values.series}; found ${found.series.map((s) => s.seriesUid).join(', ') || 'none'}`, { exitCode: 2 });
    if (found.series.length === 0) throw new HccError(`${input}: no DICOM series found (${found.skipped.length} files, none DICOM)`);
    const series: Record<string, unknown>[] = [];
    for (const s of chosen) {
      const entry: Record<string, unknown> = describeSeries(s, input);
      if (s.isImage) {
        try {
          Object.assign(entry, summary(await readSeries(s, { progress: s.slices.length >= 50, correctTilt: values['correct-tilt'] })));
        } catch (err) {
          if (!(err instanceof HccError)) throw err;
          entry.error = err.message;
        }
      }
      series.push(entry);
    }
    // Only series that became volumes can be paired.
    const readable = chosen.filter((s, i) => s.isImage && series[i].error === undefined);
    const pairing = proposePairing(readable.map((s) => ({ seriesUid: s.seriesUid, modality: s.modality, studyUid: s.studyUid, frameOfReferenceUid: s.frameOfReferenceUid, description: s.description, slices: s.slices.length, hints: s.hints })));
    const unreadable = damagedFiles(found);
    const doc = { input, format: 'DICOM', series, pairing, unreadable, nonDicomFiles: found.skipped.length - unreadable.length };
    if (values.json) {
      printJson(doc);
      return 0;
    }
    const lines = [`${input} (DICOM): ${series.length} series`];
    for (const e of series) {
      lines.push(`- ${e.seriesUid}  #${e.seriesNumber ?? '?'} ${e.modality ?? '?'} ${e.description ?? ''} (${e.slices} ${e.isImage ? 'slices' : 'objects, not an image series'}; ${(e.transferSyntaxes as string[]).join(', ')})`);
      lines.push(`    phase: ${e.phase}${(e.phaseReasons as string[]).length ? ` (${(e.phaseReasons as string[]).join('; ')})` : ''}`);
      if (e.error) lines.push(`    cannot be read as a volume: ${e.error}`);
      else if (e.shape) lines.push(printVolume(e, '    '));
    }
    lines.push(`pairing: arterial ${pairing.arterial ?? 'none'}, portal-venous ${pairing.portalVenous ?? 'none'}${pairing.confident ? '' : ' (not confident)'}`);
    for (const r of pairing.reasons) lines.push(`  - ${r}`);
    for (const u of unreadable) lines.push(`unreadable: ${u.path}: ${u.reason}`);
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  },
};
