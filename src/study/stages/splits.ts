import { join } from 'node:path';
import { writeJsonAtomicSync } from '../../util/atomic.js';
import { Rng } from '../../util/rng.js';
import type { StudyConfig } from '../config.js';
import { CohortFrame } from '../frame.js';
import type { Stage } from '../stage-runner.js';
import { stratifiedSplit, type Splits } from '../splits.js';
import type { CohortsResult } from './cohorts.js';

/**
 * Stage 2: splits.json (CONTRACTS.md): resection stratified by the pathology label, IAT by event and treatment,
 * so both splits keep the label prevalence, the event rate and the treatment mix.
 */
export function splitsStage(config: StudyConfig, cohorts: CohortsResult, cohortsHash: string, outDir: string): Stage<Splits> {
  return {
    name: '2-splits',
    version: 2,
    inputs: { cohortsHash, splits: config.splits, seed: config.seed },
    async run(dir) {
      const res = CohortFrame.read(cohorts.resection.csv);
      const iat = CohortFrame.read(cohorts.iat.csv);
      const resStrata = res.str('proliferative').map((v) => v ?? 'NA');
      const iatEvent = iat.str('os_event');
      const iatTrt = iat.str('treatment');
      const iatStrata = iat.ids.map((_, i) => `${iatEvent[i] ?? 'NA'}x${iatTrt[i] ?? 'NA'}`);
      const splits: Splits = {
        seed: config.seed,
        testFraction: config.splits.testFraction,
        stratifiedBy: { resection: 'proliferative', iat: 'os_event x treatment' },
        cohorts: {
          resection: stratifiedSplit(res.ids, resStrata, config.splits.testFraction, config.splits.folds, Rng.stream(config.seed, 'split', 'resection')),
          iat: stratifiedSplit(iat.ids, iatStrata, config.splits.testFraction, config.splits.folds, Rng.stream(config.seed, 'split', 'iat')),
        },
      };
      writeJsonAtomicSync(join(dir, 'splits.json'), splits);
      writeJsonAtomicSync(join(outDir, 'splits.json'), splits);
      return splits;
    },
  };
}
