/**
 * The miniature image study several study tests build: tiny-grid CT phantoms (24 resection cases by default and
 * 60 TACE/HAIC, seeds 1 and 2, cohorts known to train a PMN) and a one-epoch tiny PMN. Returns the raw config
 * object for parseStudyConfig, so each test states only what it changes.
 */
/** The cohorts' generator seeds. */
export const MINI_IMAGE_SEEDS = { resection: 1, iat: 2 } as const;

export interface MiniImageStudyOptions {
  resectionN?: number;
  images?: 'on-demand';
  tumours?: 'all';
  /** Force pmn_score into the nomogram (a one-epoch PMN's score would rarely survive selection on its own). */
  forcePmnScore?: boolean;
}

export function miniImageStudy(name: string, options: MiniImageStudyOptions = {}): Record<string, unknown> {
  const images = options.images ? { images: options.images } : {};
  return {
    name,
    seed: 11,
    cohorts: {
      resection: { synthetic: { n: options.resectionN ?? 24, seed: MINI_IMAGE_SEEDS.resection, grid: 'tiny', ...images } },
      iat: { synthetic: { n: 60, seed: MINI_IMAGE_SEEDS.iat, grid: 'tiny', ...images } },
    },
    pmn: {
      epochs: 1,
      ...(options.tumours ? { tumours: options.tumours } : {}),
      network: { inputSize: [32, 32, 16], stemChannels: [8, 16], dModel: 16, depth: 1, prototypesPerClass: 2 },
    },
    ...(options.forcePmnScore ? { nomogram: { force: ['pmn_score'] } } : {}),
    analyses: { bootstrap: 3 },
  };
}
