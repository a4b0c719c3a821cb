/**
 * `hcc segment <ct|dicom-folder|case-prefix> [--art CT] [--pv CT] --model DIR --out seg.nii.gz [--dicom-seg out.dcm]
 * [--mirror] [--step F] [--folds 0,1] [--checkpoint final|best] [--device cuda] [--json]`: liver and tumour segmentation with an
 * hcc-iat model or an nnU-Net v2 results folder; labels on the input's grid, tumour measurements and timing per stage.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { printJson, type Command } from '../command.js';
import { casePaths } from '../../imaging/case.js';
import { openImage, type OpenedImage } from '../../imaging/dicom/open.js';
import { writeSeg } from '../../imaging/dicom/seg.js';
import { writeNifti } from '../../imaging/nifti/write.js';
import { HccError, usageError } from '../../util/errors.js';
import type { CaseImages } from '../../segmentation/cases.js';
import { StepClock } from '../../segmentation/clock.js';
import { segmentCase } from '../../segmentation/infer.js';
import { disposeModel, loadSegmentationModel } from '../../segmentation/model.js';

const USAGE = `Usage: hcc segment <input> --model DIR --out seg.nii.gz [--art CT] [--pv CT] [--dicom-seg out.dcm]
                   [--mirror] [--step F] [--folds 0,1,...] [--checkpoint final|best|FILE] [--device cpu|cuda[:N]]
                   [--json]

<input> is a case prefix P (P_art.nii.gz and P_pv.nii.gz), or one CT (NIfTI file or DICOM folder) for a
single-channel model. --art and --pv give the phases explicitly (NIfTI or DICOM). A two-channel model needs
both phases; the portal-venous series is brought onto the arterial grid.

--model is an hcc-iat model folder (model.json; cascades run stage by stage) or an nnU-Net v2 results folder
(plans.json, dataset.json, fold_N/checkpoint_final.pth), run with nnU-Net's own preprocessing, sliding window
and export (no reorientation).

Options:
  --out FILE        label map (0 background, 1 liver, 2 tumour) on the reference phase's grid, NIfTI
  --dicom-seg FILE  also a DICOM SEG referencing the reference phase (which must be a DICOM series)
  --mirror          mirroring test-time augmentation (8x slower)
  --step F          sliding-window step as a fraction of the patch (default 0.5)
  --folds LIST      folds to ensemble (default: all trained)
  --checkpoint C    checkpoint per fold, as nnU-Net's -chk: final (checkpoint_final.pth, default), best
                    (checkpoint_best.pth: the best EMA pseudo-Dice on validation during training) or a file name
  --exact           nnU-Net's float16 accumulation and export, for voxel-identical results (slower)
  --device D        where the networks run: cpu (default) or cuda[:N], which needs @hcc/torch built against a
                    CUDA libtorch (docs/torch.md); everything around the network stays on the CPU
  --json            volumes, tumour count and diameters, the tumour components the model's liver-contact rule
                    removed (removedTumours), timing per stage (steps: wall and CPU seconds), warnings

Exit codes: 0 done (also with an empty result and a warning when no liver is found), 1 invalid input or model
(the message names the file), 2 bad command line.`;

export const segmentCommand: Command = {
  name: 'segment',
  summary: 'Liver and tumour segmentation (hcc-iat cascade or an nnU-Net v2 model), NIfTI/DICOM SEG, measurements',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        art: { type: 'string' }, pv: { type: 'string' }, model: { type: 'string' }, out: { type: 'string' }, 'dicom-seg': { type: 'string' },
        mirror: { type: 'boolean' }, step: { type: 'string' }, folds: { type: 'string' }, checkpoint: { type: 'string' }, exact: { type: 'boolean' }, json: { type: 'boolean' },
        device: { type: 'string' },
      },
    });
    if (!values.model) throw usageError('--model DIR is required');
    if (!values.out) throw usageError('--out seg.nii.gz is required');
    if (positionals.length > 1) throw usageError(`expected at most one input, got ${positionals.length}`);
    const step = values.step === undefined ? undefined : Number(values.step);
    if (step !== undefined && !(step > 0 && step <= 1)) throw usageError(`--step: expected a number in (0, 1], got '${values.step}'`);
    const folds = values.folds?.split(',').map((f) => {
      const n = Number(f);
      if (!Number.isInteger(n) || n < 0) throw usageError(`--folds: expected fold numbers such as 0,1,2, got '${values.folds}'`);
      return n;
    });
    const t0 = performance.now();
    const clock = new StepClock();
    const model = clock.time('load_model', () => loadSegmentationModel(values.model!, { folds, checkpoint: values.checkpoint, device: values.device }));
    const loadModelS = (performance.now() - t0) / 1000;
    try {
      const open = (path: string, options?: Parameters<typeof openImage>[1]) => clock.timeAsync('read', () => openImage(path, options));
      let art: OpenedImage | undefined;
      let pv: OpenedImage | undefined;
      const input = positionals[0];
      if (input !== undefined) {
        const paths = casePaths(input);
        if (existsSync(paths.art) || existsSync(paths.pv)) {
          if (existsSync(paths.art)) art = await open(paths.art);
          if (existsSync(paths.pv)) pv = await open(paths.pv);
        } else if (model.channels.length === 1) {
          const opened = await open(input, { progressFrom: 50 });
          if (model.channels[0] === 'arterial') art = opened;
          else pv = opened;
        } else {
          throw new HccError(`${values.model}: this model takes two phases (${model.channels.join(' + ')}); give a case prefix or --art and --pv`);
        }
      }
      if (values.art) art = await open(values.art, { progressFrom: 50 });
      if (values.pv) pv = await open(values.pv, { progressFrom: 50 });
      if (!art && !pv) throw usageError('no input: give a CT, a case prefix, or --art/--pv');
      const images: CaseImages = { art: art?.volume, pv: pv?.volume };
      const result = segmentCase(model, images, { step, mirror: values.mirror, exact: values.exact, clock });
      for (const w of result.warnings) process.stderr.write(`hcc segment: warning: ${w}\n`);
      await clock.timeAsync('write', () => writeNifti(values.out!, result.labels, { type: 'uint8' }));
      let dicomSeg: { frames: number; segments: string[] } | undefined;
      const empty = result.labels.data.every((v) => v === 0);
      if (values['dicom-seg'] && empty) {
        // A SEG needs at least one segment; the empty NIfTI and the warning already say what happened.
        result.warnings.push(`--dicom-seg: not written, the segmentation is empty`);
        process.stderr.write(`hcc segment: warning: ${result.warnings.at(-1)}\n`);
      } else if (values['dicom-seg']) {
        const ref = model.channels[0] === 'arterial' ? art : pv;
        if (!ref?.series) throw new HccError(`--dicom-seg: the ${model.channels[0]} input is not a DICOM series; a DICOM SEG must reference one`);
        dicomSeg = writeSeg(values['dicom-seg'], { labels: result.labels, source: ref.series, algorithmName: 'hcc-iat segmentation' });
      }
      const m = result.measurements;
      const summary = {
        output: values.out, dicomSeg: dicomSeg ? values['dicom-seg'] : null, dicomSegFrames: dicomSeg?.frames ?? null,
        model: values.model, format: model.format, checkpoint: model.checkpoint, channels: model.channels,
        liverVolumeMl: m.liverVolumeMl, tumourVolumeMl: m.tumourVolumeMl, tumourCount: m.count,
        largestDiameterMm: m.largestDiameterMm, diametersMm: m.diametersMm.filter((d) => d >= 10), liverOccupancyFraction: m.liverOccupancyFraction,
        removedTumours: result.removedTumours,
        timing: { load_model: loadModelS, ...result.timing, total: (performance.now() - t0) / 1000 },
        steps: clock.steps,
        warnings: result.warnings,
      };
      if (values.json) printJson(summary);
      else {
        process.stdout.write(`${values.out}: liver ${m.liverVolumeMl.toFixed(1)} mL, ${m.count} tumour(s) >= 1 cm, largest ${m.largestDiameterMm.toFixed(1)} mm, occupancy ${((m.liverOccupancyFraction ?? 0) * 100).toFixed(1)}%\n`);
      }
      return 0;
    } finally {
      disposeModel(model);
    }
  },
};
