import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomicSync } from '../../util/atomic.js';
import { numericColumn, readCsv, column } from '../../util/csv.js';
import { HccError } from '../../util/errors.js';
import type { PmnCase } from '../batches.js';
import type { PmnConfig, TrainingConfig } from '../config.js';
import { loadCrop } from '../crop-store.js';
import type { Normalisation } from '../input.js';
import { loadCnn, predictCnn, trainCnn } from './cnn.js';
import { predictFeatureModel, trainFeatureModel, type FeatureModel } from './feature-model.js';
import { radiomicsFeatures } from './radiomics.js';

/** Clinical-only detection features (log AFP, size, count, HBV, age), from cohort.csv. */
export const CLINICAL_FEATURES = ['afp_log10', 'tumour_diameter_cm', 'tumour_count', 'hbv', 'age_years'];

export function clinicalRows(csv: string, ids: string[]): Array<Record<string, number>> {
  const table = readCsv(csv);
  const row = new Map(column(table, 'id').map((id, i) => [id, i]));
  const need = ['afp_ng_ml', 'tumour_diameter_cm', 'tumour_count', 'hbv', 'age_years'];
  for (const c of need) if (!table.columns.includes(c)) throw new HccError(`${csv}: the clinical baseline needs column '${c}'`);
  const cols = Object.fromEntries(need.map((c) => [c, numericColumn(table, c)]));
  return ids.map((id) => {
    const i = row.get(id);
    if (i === undefined) throw new HccError(`${csv}: case '${id}' is not in the cohort`);
    return {
      afp_log10: Math.log10(Math.max(cols.afp_ng_ml![i]!, 0.1)),
      tumour_diameter_cm: cols.tumour_diameter_cm![i]!,
      tumour_count: cols.tumour_count![i]!,
      hbv: cols.hbv![i]!,
      age_years: cols.age_years![i]!,
    };
  });
}

function radiomicsRows(cases: PmnCase[]): Array<Record<string, number>> {
  return cases.map((c) => radiomicsFeatures(loadCrop(c.crop)));
}

export interface BaselineSet {
  radiomics: FeatureModel;
  clinical: FeatureModel | null;
  cnn: boolean;
}

/**
 * The comparison baselines, trained on exactly the PMN's training cases and stored in `<model>/baselines/`:
 * radiomics-style ridge logistic (first-order, shape, GLCM from the tumour mask), clinical-only logistic (when
 * cohort.csv has the clinical columns) and the plain 3D CNN.
 */
export async function trainBaselines(train: PmnCase[], csv: string, dir: string, norm: Normalisation, config: PmnConfig, training: Partial<TrainingConfig>, withCnn: boolean): Promise<BaselineSet> {
  const y = train.map((c) => c.label!);
  const seed = training.seed ?? 0;
  const rad = radiomicsRows(train);
  const radiomics = trainFeatureModel(rad, y, Object.keys(rad[0]!), { seed });
  const header = readCsv(csv).columns;
  const clinical = header.includes('afp_ng_ml') ? trainFeatureModel(clinicalRows(csv, train.map((c) => c.id)), y, CLINICAL_FEATURES, { seed }) : null;
  if (withCnn) {
    const net = await trainCnn(train, norm, config, training, dir);
    net.dispose();
  }
  const set: BaselineSet = { radiomics, clinical, cnn: withCnn };
  writeJsonAtomicSync(join(dir, 'baselines.json'), set);
  return set;
}

/** Probabilities of every stored baseline for the given cases. */
export async function scoreBaselines(dir: string, cases: PmnCase[], csv: string, norm: Normalisation, config: PmnConfig): Promise<Record<string, number[]>> {
  const path = join(dir, 'baselines.json');
  if (!existsSync(path)) return {};
  const set = JSON.parse(readFileSync(path, 'utf8')) as BaselineSet;
  const out: Record<string, number[]> = { radiomics: Array.from(predictFeatureModel(set.radiomics, radiomicsRows(cases))) };
  const header = readCsv(csv).columns;
  if (set.clinical && header.includes('afp_ng_ml')) out.clinical = Array.from(predictFeatureModel(set.clinical, clinicalRows(csv, cases.map((c) => c.id))));
  if (set.cnn) {
    const net = loadCnn(dir, config);
    out.cnn = await predictCnn(net, cases, norm, config);
    net.dispose();
  }
  return out;
}
