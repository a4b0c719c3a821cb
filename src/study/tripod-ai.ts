/**
 * The TRIPOD+AI checklist (Collins et al., BMJ 2024;385:e078378), main items, each pointing at the report
 * section or model-card heading where a study answers it. Items a synthetic study cannot answer (ethics,
 * patient involvement) say so rather than pointing nowhere.
 */
export interface ChecklistItem {
  item: string;
  topic: string;
  /** Report section id (report.html#id) or model-card heading. */
  where: string;
}

export const TRIPOD_AI: ChecklistItem[] = [
  { item: '1', topic: 'Title: development and/or evaluation of a prediction model, target population, outcome', where: 'report title' },
  { item: '2', topic: 'Abstract', where: 'summary' },
  { item: '3a-c', topic: 'Background: healthcare context, rationale, existing models (staging systems)', where: 'model card: Intended use' },
  { item: '4', topic: 'Objectives: development and validation', where: 'summary' },
  { item: '5a-b', topic: 'Data sources and dates', where: 'cohorts' },
  { item: '6a-c', topic: 'Participants: setting, eligibility, treatments received', where: 'cohorts (Table 1)' },
  { item: '7', topic: 'Data preparation: image pre-processing, quality checks', where: 'segmentation' },
  { item: '8a-c', topic: 'Outcome: definition, time of assessment, blinding', where: 'cohorts' },
  { item: '9a-c', topic: 'Predictors: definition, measurement, blinding', where: 'nomogram' },
  { item: '10', topic: 'Sample size', where: 'cohorts' },
  { item: '11', topic: 'Missing data and how it was handled', where: 'cohorts' },
  { item: '12a-g', topic: 'Analytical methods: model type, training, tuning, internal validation, performance measures', where: 'detection, nomogram' },
  { item: '13', topic: 'Class imbalance', where: 'detection' },
  { item: '14', topic: 'Fairness: performance across groups', where: 'staging-comparison' },
  { item: '15', topic: 'Model output: risk, risk groups, thresholds', where: 'risk-groups' },
  { item: '16', topic: 'Differences between development and evaluation data', where: 'cohorts (Table 1 by split)' },
  { item: '17', topic: 'Ethical approval', where: 'model card: Training data (synthetic cohorts need none; real cohorts: state it)' },
  { item: '18a-d', topic: 'Open science: funding, conflicts, protocol, registration, data and code availability', where: 'provenance' },
  { item: '19', topic: 'Patient and public involvement', where: 'model card: Limits (not applicable to synthetic data)' },
  { item: '20a-c', topic: 'Participants: flow, characteristics, outcome events', where: 'cohorts (Table 1)' },
  { item: '21', topic: 'Number of participants and outcome events in each analysis', where: 'detection, nomogram' },
  { item: '22', topic: 'Full model specification (coefficients, baseline survival)', where: 'nomogram' },
  { item: '23a-b', topic: 'Model performance with CIs; subgroup performance', where: 'detection, nomogram, staging-comparison' },
  { item: '24', topic: 'Model updating / recalibration', where: 'model card: Limits (see hcc study validate)' },
  { item: '25', topic: 'Interpretation, including fairness', where: 'treatment-effect, truth-comparison' },
  { item: '26', topic: 'Limitations', where: 'model card: Limits' },
  { item: '27a-c', topic: 'Usability: inputs, handling poor-quality or missing data, user interaction', where: 'model card: Intended use' },
];
