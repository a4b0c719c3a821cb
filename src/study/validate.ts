import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomicSync } from '../util/atomic.js';
import { HccError } from '../util/errors.js';
import { calibrationAndDca, type CalibrationAtTime } from './analyses/calibration-dca.js';
import { fitCoxModel, riskFromBaseline, riskFunction } from './analyses/cox-model.js';
import { evaluateScores, type PrognosticMetrics } from './analyses/prognostic-metrics.js';
import type { StudyConfig } from './config.js';
import { CohortFrame } from './frame.js';
import { NOMOGRAM_MODEL_KIND, type NomogramModelFile } from './outputs.js';
import { predictorValues } from './predictors.js';
import { prepareCohort } from './stages/cohorts.js';

/**
 * `hcc study validate`: a frozen study applied to another cohort (another site) for external validation. The
 * nomogram is used exactly as stored; its discrimination, Brier/IBS and calibration are reported as is. A
 * recalibrated version (a Cox model on the external cohort with the frozen linear predictor as the only term:
 * the calibration slope, and a new baseline hazard) is reported separately, never mixed with the frozen one.
 */
export interface ValidationResult {
  study: string;
  cohort: { n: number; complete: number; synthetic: boolean };
  frozen: { metrics: PrognosticMetrics; nullIbs: number; calibration: CalibrationAtTime[] };
  recalibrated: { slope: number; slopeSe: number; metrics: PrognosticMetrics; calibration: CalibrationAtTime[] };
}

export async function validateStudy(studyDir: string, config: StudyConfig, outDir: string): Promise<ValidationResult> {
  const modelPath = join(studyDir, 'models', 'nomogram', 'model.json');
  if (!existsSync(modelPath)) throw new HccError(`${modelPath}: missing; --study must be a folder written by 'hcc study run'`);
  const model = JSON.parse(readFileSync(modelPath, 'utf8')) as NomogramModelFile;
  if (model.kind !== NOMOGRAM_MODEL_KIND) throw new HccError(`${modelPath}: kind ${model.kind}, expected ${NOMOGRAM_MODEL_KIND}`);
  if (model.terms.some((t) => t.name === 'pmn_score')) {
    throw new HccError(`${modelPath}: this nomogram uses the PMN score; external validation of image-based terms needs the PMN scoring step, which 'hcc study validate' does not run yet`);
  }
  const entry = await prepareCohort('iat', config.cohorts.iat, join(outDir, 'cohort'), 2);
  const all = CohortFrame.read(entry.csv);
  const values = model.terms.map((t) => predictorValues(all, t.name));
  const time0 = all.num('os_months');
  const event0 = all.num('os_event');
  const complete = all.filter((i) => Number.isFinite(time0[i]!) && Number.isFinite(event0[i]!) && values.every((v) => Number.isFinite(v[i]!)));
  if (complete.length < 20) throw new HccError(`external cohort: only ${complete.length} complete cases for the nomogram terms ${model.terms.map((t) => t.name).join(', ')}`);
  const time = complete.num('os_months');
  const event = complete.num('os_event');
  const cols = model.terms.map((t) => predictorValues(complete, t.name));
  const lp = Float64Array.from(time, (_, i) => model.terms.reduce((s, t, j) => s + t.coef * (cols[j]![i]! - model.means[j]!), 0));
  const { times, horizon } = config.analyses;
  const frozenRisk = riskFromBaseline(model.baseline, lp);
  const frozen = evaluateScores(time, event, [{ name: 'nomogram', marker: lp, risk: frozenRisk }], times, horizon);
  // Recalibration: slope and baseline re-estimated on the external cohort, the linear predictor kept.
  const refit = fitCoxModel(time, event, ['lp'], [lp]);
  const slope = refit.fit.coef[0]!;
  const recalRisk = riskFunction(refit, [lp]);
  const recal = evaluateScores(time, event, [{ name: 'nomogram', marker: lp, risk: recalRisk }], times, horizon);
  const result: ValidationResult = {
    study: model.provenance.study,
    cohort: { n: all.length, complete: complete.length, synthetic: entry.synthetic },
    frozen: { metrics: frozen.metrics['nomogram']!, nullIbs: frozen.nullIbs, calibration: calibrationAndDca(time, event, frozenRisk, times) },
    recalibrated: { slope, slopeSe: refit.fit.se[0]!, metrics: recal.metrics['nomogram']!, calibration: calibrationAndDca(time, event, recalRisk, times) },
  };
  writeJsonAtomicSync(join(outDir, 'validation.json'), result);
  return result;
}
