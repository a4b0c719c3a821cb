/**
 * `hcc convert <dicom-folder|dicom-file|nifti> <out.nii.gz> [--series UID] [--deidentify] [--json]`:
 * one series (or NIfTI) to NIfTI, voxels in stored axis order, RAS affine, plus a JSON sidecar describing the
 * source. Several series and no --series: the list, and exit code 2.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { printJson, type Command } from '../command.js';
import { writeJsonAtomicSync } from '../../util/atomic.js';
import { usageError } from '../../util/errors.js';
import { damagedFiles, isNiftiPath, openImage, seriesSidecar } from '../../imaging/dicom/open.js';
import { writeNifti } from '../../imaging/nifti/write.js';
import { axisCodes } from '../../imaging/orientation.js';

const USAGE = `Usage: hcc convert <input> <out.nii.gz> [--series UID] [--correct-tilt] [--deidentify] [--json]

<input> is a folder of DICOM files (searched recursively; other files are ignored), one DICOM file, or a NIfTI
file. Writes <out> (.nii or .nii.gz) and <out>.json, a sidecar with the series description, UIDs, phase hints
and geometry. Voxels keep the stored axis order (as nnU-Net expects); CT comes out in HU.

Options:
  --series UID    which series, when the folder holds several (they are listed otherwise, exit code 2)
  --correct-tilt  resample a gantry-tilted series onto an orthogonal grid (rows shifted per slice, uneven gaps
                  equalised, as dcm2niix's _Tilt_Eq output) instead of refusing it
  --deidentify    sidecar under DICOM PS3.15's basic profile: UIDs replaced (key: HCC_DEID_KEY, else random
                  per run), descriptions and times removed. The NIfTI never carries identity.
  --json          print the result as JSON on stdout

Exit codes: 0 written, 1 unreadable or invalid input (the message names the file), 2 bad command line or
several series and no --series.`;

export function sidecarPath(out: string): string {
  return out.replace(/\.nii(\.gz)?$/i, '') + '.json';
}

export const convertCommand: Command = {
  name: 'convert',
  summary: 'DICOM series (or NIfTI) to NIfTI with a JSON sidecar; lists the series when there are several',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { series: { type: 'string' }, 'correct-tilt': { type: 'boolean' }, deidentify: { type: 'boolean' }, json: { type: 'boolean' }, debug: { type: 'boolean' } },
    });
    if (positionals.length !== 2) throw usageError(`expected an input and an output: hcc convert <input> <out.nii.gz> (got ${positionals.length} arguments)`);
    const [input, out] = positionals as [string, string];
    if (!isNiftiPath(out)) throw usageError(`output '${out}' must end in .nii or .nii.gz`);
    const opened = await openImage(input, { seriesUid: values.series, progressFrom: 50, correctTilt: values['correct-tilt'] });
    const { volume, series, discovery } = opened;
    const warnings = discovery ? damagedFiles(discovery).map((d) => `${d.path}: ${d.reason}`) : [];
    for (const w of warnings) process.stderr.write(`hcc convert: warning: skipped ${w}\n`);
    await writeNifti(out, volume);
    const uidSalt = process.env.HCC_DEID_KEY ?? randomBytes(16).toString('hex');
    const sidecar = series
      ? seriesSidecar(series, volume, values.deidentify ? { deidentify: { uidSalt } } : {})
      : { source: 'NIfTI', shape: volume.shape, spacing: volume.spacing, affine: volume.affine };
    const sidecarFile = sidecarPath(out);
    writeJsonAtomicSync(sidecarFile, sidecar);
    const result = { output: out, sidecar: sidecarFile, shape: volume.shape, spacing: volume.spacing, orientation: axisCodes(volume.affine), type: volume.data.constructor.name.replace('Array', '').toLowerCase(), phase: series?.hints.phase, warnings };
    if (values.json) printJson(result);
    else process.stdout.write(`wrote ${out} (${volume.shape.join('x')}, ${volume.spacing.map((s) => +s.toFixed(4)).join(' x ')} mm, ${result.orientation}) and ${sidecarFile}\n`);
    return 0;
  },
};
