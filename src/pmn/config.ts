/**
 * The PMN's configuration (pmn-design.md §0 and §5): every choice the paper leaves open is a field here, stored
 * in model.json so a model folder says exactly what it is. Sizes are [x, y, z] like Volume shapes.
 */
export interface PmnConfig {
  /**
   * Network input [x, y, z] voxels, cut from the stored crop (crop.ts, 72x72x36 by default): at random
   * offsets in training (the jitter margin), centrally at inference.
   */
  inputSize: [number, number, number];
  /** 3 = [AP, PVP, tumour mask]; 4 adds the liver mask. */
  inChannels: 3 | 4;
  stemChannels: [number, number];
  dModel: number;
  depth: number;
  dState: number;
  expand: number;
  dConv: number;
  /** Prototypes per class (class 0 non-proliferative, class 1 proliferative). */
  prototypesPerClass: number;
  /** HU clip window before the z-score. */
  clipHu: [number, number];
  /**
   * Crop voxel spacing [x, y, z] in mm: with inputSize it sets the field of view the tumour plus its margin must
   * fit in (crop.ts cropSpecFor). A smaller input at the same spacing would show only part of a large tumour.
   */
  spacingMm: [number, number, number];
  /**
   * A prototype's distance to a case: the mean of its k nearest in-mask tokens (pmn-design.md §5.3's top-3
   * option; 1 = ProtoPNet's minimum). k > 1 spreads the gradient over several tokens instead of one.
   */
  similarityTopK: number;
}

export const DEFAULT_CONFIG: PmnConfig = {
  inputSize: [64, 64, 32],
  inChannels: 3,
  stemChannels: [16, 32],
  dModel: 64,
  depth: 4,
  dState: 8,
  expand: 2,
  dConv: 4,
  prototypesPerClass: 5,
  clipHu: [-160, 240],
  spacingMm: [1.5, 1.5, 2.5],
  similarityTopK: 1,
};

/** Total downsampling from input voxels to tokens per axis [x, y, z]: stem (2,2,1), (2,2,2), patch (2,2,2). */
export const TOKEN_STRIDE: [number, number, number] = [8, 8, 4];

export function tokenGrid(config: PmnConfig): [number, number, number] {
  return config.inputSize.map((s, d) => Math.floor(s / TOKEN_STRIDE[d]!)) as [number, number, number];
}

/** The ranges of the random training augmentation (TrainingConfig.augmentation). */
export interface AugmentationRanges {
  /** Probability of the in-plane rotation + zoom. */
  affineProbability: number;
  /** Rotation uniform in ±rotationDeg degrees; zoom uniform in 1 ± zoom. */
  rotationDeg: number;
  zoom: number;
  /** Per-phase intensity scale uniform in 1 ± intensityScale and shift in ±intensityShift (z-score units). */
  intensityScale: number;
  intensityShift: number;
  /** Gaussian noise SD (z-score units). */
  noise: number;
}

/** pmn-design.md §5.5. */
export const DEFAULT_AUGMENTATION: AugmentationRanges = { affineProbability: 0.5, rotationDeg: 10, zoom: 0.1, intensityScale: 0.1, intensityShift: 0.1, noise: 0.02 };

export interface TrainingConfig {
  epochs: number;
  batchSize: number;
  warmupEpochs: number;
  lr: number;
  prototypeLr: number;
  minLr: number;
  weightDecay: number;
  clipGrad: number;
  /**
   * Loss weights: L = CE_w + clst·Clst − sep·Sep + cox·Cox [+ div·Div]. ProtoPNet's 0.8 and 0.08 assume a
   * pretrained backbone; from scratch they collapsed every prototype and token feature onto one point (cluster
   * cost = separation cost for all 60 epochs, CE flat at 0.69-0.76 until the first push) at the paper's size,
   * so the defaults are ten times lower (BENCHMARKS.md, Prototype Mamba Net).
   */
  clst: number;
  sep: number;
  cox: number;
  div: number;
  /**
   * Weight of the auxiliary radiomics regression (radiomics-aux.ts): the mean in-mask backbone token predicts its
   * case's standardised radiomics features. 0 turns it off.
   */
  radiomicsAux: number;
  l1: number;
  /** Epochs (1-based, after which) the prototypes are pushed; the last push always happens at the end. */
  pushEpochs: number[];
  lastLayerSteps: number;
  lastLayerLr: number;
  augment: boolean;
  /** Ranges of the random augmentation; a partial object in a config file overrides single fields. */
  augmentation: AugmentationRanges;
  seed: number;
}

export const DEFAULT_TRAINING: TrainingConfig = {
  epochs: 60,
  batchSize: 16,
  warmupEpochs: 5,
  lr: 1e-3,
  prototypeLr: 3e-3,
  minLr: 1e-5,
  weightDecay: 0.05,
  clipGrad: 1,
  clst: 0.08,
  sep: 0.008,
  cox: 0.5,
  div: 0,
  radiomicsAux: 0,
  l1: 1e-4,
  pushEpochs: [20, 40, 60],
  lastLayerSteps: 300,
  lastLayerLr: 1e-2,
  augment: true,
  augmentation: DEFAULT_AUGMENTATION,
  seed: 0,
};

/** The training configuration: defaults, then the overrides (augmentation ranges field by field). */
export function trainingConfig(overrides: Partial<TrainingConfig> = {}): TrainingConfig {
  return { ...DEFAULT_TRAINING, ...overrides, augmentation: { ...DEFAULT_AUGMENTATION, ...overrides.augmentation } };
}
