import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { StudyResults } from '../study/run.js';
import { sumCompute, type StageCompute } from '../study/stage-runner.js';
import type { ArmComparison } from '../study/analyses/arms.js';
import { renderReport, type Block, type Section, type Table } from './html.js';
import { forestPlot, formatP } from './svg/forest.js';
import { xyChart, type Point } from './svg/xy-chart.js';

/**
 * report.html for a finished study, rendered from results.json alone: every number shown is in results.json,
 * so the report can be regenerated, diffed and audited without rerunning anything.
 */
const SYSTEM_LABELS: Record<string, string> = {
  nomogram: 'Nomogram',
  pmn_score: 'PMN score alone',
  bclc: 'BCLC 2022',
  cnlc: 'CNLC',
  tnm8: 'TNM 8',
  albi_grade: 'ALBI grade',
  child_pugh_class: 'Child-Pugh class',
  clip: 'CLIP',
  okuda: 'Okuda',
  jis: 'JIS',
  hap: 'HAP',
  mhap2: 'mHAP-II',
  six_twelve: 'Six-and-twelve',
};

const formatCompute = (c: StageCompute) => `${(c.wallSeconds / 60).toFixed(1)} min wall, ${(c.cpuSeconds / 60).toFixed(1)} CPU-min`;
const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'NA');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'NA');
const ci = (est: number, lo: number, hi: number) => `${f2(est)} (${f2(lo)}-${f2(hi)})`;

function stepPoints(time: number[], surv: number[]): Point[] {
  return [[0, 1], ...time.map((t, i) => [t, surv[i]!] as Point)];
}

function kmPanel(g: ArmComparison, horizon: number): Block {
  const [tace, haic] = g.curves;
  const svg = xyChart({
    title: `Risk group: ${g.group} (n = ${g.n})`,
    xLabel: 'Months since treatment',
    yLabel: 'Overall survival',
    xDomain: [0, horizon],
    yDomain: [0, 1],
    series: g.curves.map((c) => ({
      label: `${c.arm} (n=${c.n})`,
      kind: 'step' as const,
      points: stepPoints(c.time, c.surv),
      band: { lower: stepPoints(c.time, c.lower.map((v) => (Number.isFinite(v) ? v : 0))), upper: stepPoints(c.time, c.upper.map((v) => (Number.isFinite(v) ? v : 1))) },
    })),
    atRisk: { at: tace!.atRisk.times, rows: [{ label: 'TACE', values: tace!.atRisk.n }, { label: 'HAIC', values: haic!.atRisk.n }] },
  });
  const iptw = 'cox' in g.iptw ? `; IPTW HR ${ci(g.iptw.cox.hr, g.iptw.cox.lower, g.iptw.cox.upper)}, ${formatP(g.iptw.cox.p)}` : '';
  return {
    kind: 'figure',
    svg,
    caption: `Kaplan-Meier overall survival, TACE vs HAIC, ${g.group} risk. Log-rank ${formatP(g.logrank.p)}; Cox HR (HAIC vs TACE) ${ci(g.cox.hr, g.cox.lower, g.cox.upper)}${iptw}. Shaded: 95% CI (log).`,
  };
}

function metricsTable(r: StudyResults, split: 'train' | 'test'): Table {
  const times = r.provenance.config.analyses.times;
  const contrasts = r.staging_comparison.aucContrasts[split];
  return {
    columns: [
      'Score',
      "Harrell's C",
      "Uno's C",
      ...times.map((t) => `td-AUC ${t} mo (P vs nomogram)`),
      `IBS to ${r.provenance.config.analyses.horizon} mo`,
      ...(split === 'test' ? ["Uno's C minus nomogram (95% CI; P)", 'IBS minus nomogram (95% CI; P)'] : []),
    ],
    rows: r.staging_comparison.metrics.map((m) => [
      SYSTEM_LABELS[m.score] ?? m.score,
      f3(m[split].harrellC.c),
      `${f3(m[split].unoC.c)} ± ${f3(m[split].unoC.se)}`,
      ...m[split].tdAuc.map((a) => {
        const c = contrasts.find((x) => x.score === m.score && x.time === a.time);
        return `${f3(a.auc)} (${f3(a.lower)}-${f3(a.upper)})${c ? `; ${formatP(c.p)}` : ''}`;
      }),
      f3(m[split].ibs),
      ...(split === 'test'
        ? (() => {
            const d = r.staging_comparison.differences.find((x) => x.score === m.score);
            const cell = (t: { difference: number; ci: [number, number]; p: number }) => `${f3(t.difference)} (${f3(t.ci[0])} to ${f3(t.ci[1])}; ${formatP(t.p)})`;
            return d ? [cell(d.unoC), cell(d.ibs)] : ['reference', 'reference'];
          })()
        : []),
    ]),
  };
}

function tdAucFigure(r: StudyResults): string {
  return xyChart({
    title: 'Time-dependent AUC, test split',
    xLabel: 'Months',
    yLabel: 'td-AUC (cumulative/dynamic, IPCW)',
    yDomain: [0.5, 1],
    series: r.staging_comparison.metrics.slice(0, 6).map((m, i) => ({
      label: SYSTEM_LABELS[m.score] ?? m.score,
      kind: 'line' as const,
      points: m.test.tdAuc.map((a) => [a.time, a.auc] as Point),
      dashed: i > 0,
    })),
  });
}

/**
 * The PMN's prototypes: each is a learned tumour pattern pushed to a real training patch, so a reader can see what
 * the model compares every tumour with and which way each pattern pushes the prediction.
 */
function prototypeGalleryBlocks(r: StudyResults): Block[] {
  const cards = r.pmnPrototypes;
  if (!cards?.length) return [];
  const className = (c: number) => (c === 1 ? 'proliferative' : 'non-proliferative');
  return [
    {
      kind: 'table',
      caption: "PMN prototype gallery. Each prototype was pushed to the nearest tumour patch of a training case of its class; a case's contribution from a prototype is its similarity times these weights (log-odds of the proliferative subtype, and Cox risk).",
      table: {
        columns: ['Prototype', 'Class', 'Training case', 'Log-odds weight', 'Risk weight', 'Push distance'],
        rows: cards.map((c) => [c.prototype, className(c.class), c.pushedFrom?.caseId ?? 'not pushed', f3(c.logitWeight), f3(c.riskWeight), c.pushedFrom ? f3(c.pushedFrom.distance) : '']),
      },
    },
    ...cards.filter((c) => c.trainingPatch).map((c): Block => ({
      kind: 'image',
      png: readFileSync(c.trainingPatch!),
      alt: `prototype ${c.prototype} training patch`,
      caption: `Prototype ${c.prototype} (${className(c.class)}): its patch (yellow box) in training case ${c.pushedFrom?.caseId ?? ''}, arterial phase.`,
    })),
  ];
}

export function renderStudyReport(r: StudyResults): string {
  const horizon = r.provenance.config.analyses.horizon;
  const nomo = r.nomogram.metrics;
  const high = r.treatment_effect.groups.find((g) => g.group === 'high');
  const low = r.treatment_effect.groups.find((g) => g.group === 'low');
  const sections: Section[] = [];
  sections.push({
    id: 'summary',
    title: 'Summary',
    blocks: [
      {
        kind: 'paragraph',
        text: `Study '${r.study}': ${r.cohorts.resection.n} resection and ${r.cohorts.iat.n} TACE/HAIC patients (${r.synthetic ? 'synthetic cohorts from the hcc-iat generator' : 'real cohorts'}). The nomogram (${r.nomogram.selection.selected.join(', ')}) reached Uno's C ${f3(nomo.test.unoC.c)} on the test split (${nomo.test.n} patients, ${nomo.test.events} deaths).`,
      },
      ...((r.splits.test['resection'] ?? 0) < 100 || (r.splits.test['iat'] ?? 0) < 300
        ? [
            {
              kind: 'paragraph' as const,
              text: `What a study of this size can and cannot show: with ${r.splits.test['resection']} resection and ${r.splits.test['iat']} TACE/HAIC test patients, the detection AUC's 95% CI is ${r.detection.models[0] ? `about ±${f2((r.detection.models[0].test.ci[1] - r.detection.models[0].test.ci[0]) / 2)}` : 'wide'}, so differences between models smaller than that go undetected, and the PMN and the segmentation are trained briefly on few cases. ` +
                "Use it to see every analysis, figure and table work end to end. The paper's claims need its sizes (configs/paper-scale.yaml, and docs/paper-comparison.md for the paper-scale synthetic run).",
            },
          ]
        : []),
      ...(high && low
        ? [{ kind: 'paragraph' as const, text: `HAIC vs TACE: high-risk HR ${ci(high.cox.hr, high.cox.lower, high.cox.upper)}, ${formatP(high.cox.p)}; low-risk HR ${ci(low.cox.hr, low.cox.lower, low.cox.upper)}, ${formatP(low.cox.p)} (unadjusted Cox; IPTW-adjusted results below).` }]
        : []),
    ],
  });
  sections.push({
    id: 'cohorts',
    title: 'Cohorts and splits',
    blocks: [
      {
        kind: 'table',
        caption: 'Patients per cohort and split. Splits are stratified (resection by pathology label; IAT by event and treatment) and written to splits.json; no test case is used to train or tune anything.',
        table: {
          columns: ['Cohort', 'Source', 'Patients', 'Train', 'Test'],
          rows: (['resection', 'iat'] as const).map((k) => [k, r.cohorts[k].synthetic ? 'synthetic' : 'real', r.cohorts[k].n, r.splits.train[k] ?? null, r.splits.test[k] ?? null]),
        },
      },
      ...(['iat', 'resection'] as const).map((k) => ({
        kind: 'table' as const,
        caption: `Table 1${k === 'iat' ? 'a' : 'b'}. Baseline characteristics of the ${k === 'iat' ? 'TACE/HAIC cohort by treatment and split' : 'resection cohort by split'}: median [IQR] or n (%).${k === 'iat' ? ' SMD: standardised mean difference HAIC vs TACE over the whole cohort (|SMD| > 0.1 marks imbalance).' : ''}`,
        table: {
          columns: ['Variable', ...r.table1[k].groups.map((g) => `${g.name} (n=${g.n})`), 'Missing', ...(k === 'iat' ? ['SMD'] : [])],
          rows: r.table1[k].rows.map((row) => [
            row.level === null ? row.variable : `${row.variable} = ${row.level}`,
            ...row.cells,
            row.missing,
            ...(k === 'iat' ? [row.smdTreatment === null ? null : f2(row.smdTreatment)] : []),
          ]),
        },
      })),
      { kind: 'paragraph', text: `Complete cases for the survival analyses: ${r.nomogram.completeCases.train} train, ${r.nomogram.completeCases.test} test, ${r.nomogram.completeCases.dropped} dropped for missing values.` },
    ],
  });
  const det = r.detection;
  const modelLabel = (m: string) => ({ pmn: 'PMN', radiomics: 'Radiomics (ridge logistic)', clinical: 'Clinical (ridge logistic)' })[m] ?? m;
  sections.push({
    id: 'detection',
    title: 'Proliferative-subtype detection',
    blocks: [
      {
        kind: 'table',
        caption: `AUC against the observed pathology label with DeLong 95% CIs; models fitted on the training split only. P: DeLong's paired test against the reference model (${modelLabel(det.reference)}) on the test split.${det.oracle ? ` Oracle ceiling (5-fold CV logistic on the hidden phenotype, test split): ${f3(det.oracle.auc)} (${f2(det.oracle.ci[0])}-${f2(det.oracle.ci[1])}).` : ''}`,
        table: {
          columns: ['Model', 'AUC train (95% CI)', 'AUC test (95% CI)', 'Delta vs reference (95% CI)', 'P'],
          rows: det.models.map((m) => [
            modelLabel(m.model),
            `${f3(m.train.auc)} (${f3(m.train.ci[0])}-${f3(m.train.ci[1])})`,
            `${f3(m.test.auc)} (${f3(m.test.ci[0])}-${f3(m.test.ci[1])})`,
            m.versusReference ? `${f3(m.versusReference.deltaAuc)} (${f3(m.versusReference.ci[0])} to ${f3(m.versusReference.ci[1])})` : 'reference',
            m.versusReference ? formatP(m.versusReference.p) : '',
          ]),
        },
      },
      ...(r.pmnSkipped ? [{ kind: 'paragraph' as const, text: `No PMN in this study: ${r.pmnSkipped}.` }] : []),
      ...(det.excluded ? [{ kind: 'paragraph' as const, text: `${det.excluded} case(s) without an imaging score (no tumour in the mask) are left out, so every model is compared on the same cases.` }] : []),
      {
        kind: 'figure',
        svg: xyChart({
          title: 'ROC curves, test split',
          xLabel: '1 - specificity',
          yLabel: 'Sensitivity',
          xDomain: [0, 1],
          yDomain: [0, 1],
          diagonal: true,
          series: det.models.map((m) => ({ label: `${modelLabel(m.model)} ${f3(m.test.auc)}`, kind: 'line' as const, points: m.test.roc.fpr.map((x, k) => [x, m.test.roc.tpr[k]!] as Point) })),
        }),
        caption: `ROC curves on the test split (${det.models[0]?.test.n ?? 0} patients, ${det.models[0]?.test.positives ?? 0} proliferative).`,
      },
      ...det.models.filter((m) => m.test.calibration).map((m) => ({
        kind: 'figure' as const,
        svg: xyChart({
          title: `Calibration: ${modelLabel(m.model)}`,
          xLabel: 'Predicted probability',
          yLabel: 'Observed proportion',
          xDomain: [0, 1],
          yDomain: [0, 1],
          diagonal: true,
          width: 320,
          height: 240,
          series: [{ label: 'quintiles', kind: 'points' as const, points: m.test.calibration!.map((c) => [c.predicted, c.observed] as Point) }],
        }),
        caption: 'Observed proportion of proliferative tumours by quintile of predicted probability, test split.',
      })),
      ...prototypeGalleryBlocks(r),
    ],
  });
  const imagingBlocks: Block[] = [];
  if (r.segmentation) {
    const d = r.segmentation.dice;
    imagingBlocks.push({
      kind: 'paragraph',
      text: `Segmentation (${r.provenance.config.segmentation.mode === 'train' ? 'trained on the training split of this study' : `model ${r.segmentation.model}`}); its predicted masks replace the label maps for the crops and measurements below. Mean Dice against the provided label maps: ${(['resection', 'iat'] as const).filter((k) => d[k]).map((k) => `${k} liver ${f3(d[k]!.liver)}, tumour ${f3(d[k]!.tumour)} (${d[k]!.n} cases)`).join('; ')}.${r.segmentation.emptyCases.length ? ` No tumour found in ${r.segmentation.emptyCases.length} case(s).` : ''}`,
    });
  }
  for (const kind of ['resection', 'iat'] as const) {
    const im = r.imaging[kind];
    if (!im) continue;
    imagingBlocks.push({ kind: 'paragraph', text: `${kind}: ${im.n} cases. Tumour count measured from the label maps agrees with cohort.csv in ${(im.measurement.countAgreement * 100).toFixed(0)}% of cases; mean absolute error of the largest diameter ${f2(im.measurement.diameterMeanAbsErrorCm)} cm (CONTRACTS.md measurement rules on the image grid).` });
    for (const png of im.overlays) imagingBlocks.push({ kind: 'image', png: readFileSync(png), alt: `overlay ${png}`, caption: `Arterial phase, liver (green) and tumour (red) labels: ${basename(png)}` });
  }
  if (imagingBlocks.length) sections.push({ id: 'segmentation', title: 'Images and tumour measurements', blocks: imagingBlocks });
  sections.push({
    id: 'nomogram',
    title: 'Nomogram',
    blocks: [
      {
        kind: 'paragraph',
        text: `Candidates: ${r.nomogram.candidates.join(', ')}. Univariable Cox screen at p < ${r.provenance.config.nomogram.screenP}, then backward elimination by AIC on the IAT training split (${r.nomogram.selection.steps.length - 1} terms dropped).`,
      },
      {
        kind: 'table',
        caption: 'Multivariable Cox model of the nomogram (training split).',
        table: { columns: ['Predictor', 'Coefficient', 'HR (95% CI)', 'P'], rows: r.nomogram.nomogram.terms.map((t) => [t.label, f3(t.coef), ci(t.hr, t.lower, t.upper), formatP(t.p)]) },
      },
      {
        kind: 'figure',
        svg: forestPlot(r.nomogram.nomogram.terms.map((t) => ({ label: t.label, estimate: t.hr, lower: t.lower, upper: t.upper, p: t.p })), { title: 'Hazard ratios of the nomogram terms' }),
        caption: 'Forest plot of the multivariable Cox model (per unit of each predictor).',
      },
    ],
  });
  sections.push({
    id: 'staging-comparison',
    title: 'Comparison with staging systems',
    blocks: [
      { kind: 'table', caption: `Test split. Staging systems enter as Cox models with the stage as a factor, fitted on the training split. Uno's C is truncated at the horizon; td-AUC is riskRegression's cumulative/dynamic IPCW estimator with the influence-function test against the nomogram; the IBS is pec's, against ${f3(r.staging_comparison.nullIbs.test)} for the Kaplan-Meier null model.`, table: metricsTable(r, 'test') },
      ...(r.staging_comparison.skipped?.length ? [{ kind: 'paragraph' as const, text: `Left out of the comparison: ${r.staging_comparison.skipped.map((k) => `${k.system} (${k.reason})`).join('; ')}.` }] : []),
      { kind: 'figure', svg: tdAucFigure(r), caption: 'td-AUC of the nomogram (solid) and the first staging systems (dashed) at the study times, test split.' },
      ...r.nomogram.calibration.map((c) => ({
        kind: 'figure' as const,
        svg: xyChart({
          title: `Calibration at ${c.time} months (test)`,
          xLabel: 'Predicted risk of death',
          yLabel: 'Observed (1 - Kaplan-Meier)',
          xDomain: [0, 1],
          yDomain: [0, 1],
          diagonal: true,
          width: 320,
          height: 240,
          series: [
            { label: 'quintiles', kind: 'points' as const, points: c.grouped.table.mean_pred.map((p, k) => [p, c.grouped.table.obs[k]!] as Point) },
            { label: 'smoothed', kind: 'line' as const, points: c.smoothed.grid.map((g, k) => [g, c.smoothed.observed[k]!] as Point) },
          ],
        }),
        caption: `Nomogram calibration at ${c.time} months: O/E ${f2(c.grouped.oe_ratio)}, ICI ${f3(c.smoothed.ici)}, E50 ${f3(c.smoothed.e50)}, E90 ${f3(c.smoothed.e90)}.`,
      })),
      ...r.nomogram.calibration.map((c) => ({
        kind: 'figure' as const,
        svg: xyChart({
          title: `Decision curve, death by ${c.time} months (test)`,
          xLabel: 'Threshold probability',
          yLabel: 'Net benefit',
          xDomain: [0, 1],
          width: 320,
          height: 240,
          hLines: [0],
          series: [
            { label: 'Nomogram', kind: 'line' as const, points: c.decisionCurve.thresholds.map((t, k) => [t, c.decisionCurve.model[k]!] as Point) },
            { label: 'Treat all', kind: 'line' as const, dashed: true, points: c.decisionCurve.thresholds.map((t, k) => [t, c.decisionCurve.treatAll[k]!] as Point) },
          ],
          // Treat-all plunges far below 0 at high thresholds; the useful range is near 0 and above.
          yDomain: [-0.1, Math.max(0.05, ...c.decisionCurve.model.filter(Number.isFinite), ...c.decisionCurve.treatAll.filter(Number.isFinite))],
        }),
        caption: 'Net benefit of acting on the nomogram\'s predicted risk against treating everyone and no one (0 line), Vickers 2008 survival method.',
      })),
      { kind: 'table', caption: 'The same metrics on the training split (optimistic for the nomogram, which was selected and fitted there).', table: metricsTable(r, 'train') },
    ],
  });
  sections.push({
    id: 'risk-groups',
    title: 'Risk groups',
    blocks: [
      {
        kind: 'paragraph',
        text: `Cut-off on the nomogram linear predictor chosen on the training split only (${r.risk_groups.method === 'maxstat' ? `maximally selected log-rank statistic ${f2(r.risk_groups.statistic ?? NaN)}, Lausen-94 adjusted ${formatP(r.risk_groups.p ?? NaN)}` : 'training median'}): ${f3(r.risk_groups.cutoff)}, putting ${(r.risk_groups.lowShare * 100).toFixed(0)}% of training patients in the low-risk group; applied unchanged to the test split.`,
      },
    ],
  });
  const te = r.treatment_effect;
  sections.push({
    id: 'treatment-effect',
    title: 'Treatment benefit: TACE vs HAIC',
    blocks: [
      ...te.groups.map((g) => kmPanel(g, horizon)),
      {
        kind: 'figure',
        svg: forestPlot(
          te.groups.flatMap((g) => [
            { label: `${g.group}: unadjusted`, estimate: g.cox.hr, lower: g.cox.lower, upper: g.cox.upper, p: g.cox.p },
            ...('cox' in g.iptw ? [{ label: `${g.group}: IPTW`, estimate: g.iptw.cox.hr, lower: g.iptw.cox.lower, upper: g.iptw.cox.upper, p: g.iptw.cox.p }] : []),
          ]),
          { title: 'HAIC vs TACE by risk group', xLabel: 'Hazard ratio, HAIC vs TACE (below 1 favours HAIC)' },
        ),
        caption: 'Hazard ratios of HAIC against TACE, unadjusted and inverse-probability-of-treatment weighted (stabilised ATE weights, propensity trimmed at the 1st/99th percentiles, robust SE).',
      },
      ...te.groups.filter((g) => 'balance' in g.iptw).map((g) => ({
        kind: 'table' as const,
        caption: `Covariate balance in the ${g.group} group: standardised mean differences before and after weighting (|SMD| < 0.1 is the usual target).`,
        table: { columns: ['Covariate', 'SMD before', 'SMD after'], rows: 'balance' in g.iptw ? g.iptw.balance.map((b) => [b.covariate, f3(b.smdBefore), f3(b.smdAfter)]) : [] },
      })),
      {
        kind: 'table',
        caption: `Treatment model: IPTW-weighted Cox with treatment, the nomogram linear predictor and their interaction (${te.model.replicatesUsed} bootstrap replicates for the patient-level CIs).`,
        table: {
          columns: ['Term', 'Coefficient', 'SE', 'P'],
          rows: [
            ['HAIC', f3(te.model.coef.haic), f3(te.model.se.haic), formatP(te.model.p.haic)],
            ['Nomogram LP', f3(te.model.coef.lp), f3(te.model.se.lp), formatP(te.model.p.lp)],
            ['HAIC x LP', f3(te.model.coef.haicByLp), f3(te.model.se.haicByLp), formatP(te.model.p.haicByLp)],
          ],
        },
      },
      {
        kind: 'table',
        caption: `Recommendations for test-split patients (rule: HAIC when the 95% CI of the ${horizon}-month RMST difference HAIC - TACE is above 0, TACE when below 0).`,
        table: {
          columns: ['Risk group', 'HAIC', 'TACE', 'No clear difference'],
          rows: Object.entries(te.recommendationShare).map(([g, s]) => [g, `${((s['HAIC'] ?? 0) * 100).toFixed(0)}%`, `${((s['TACE'] ?? 0) * 100).toFixed(0)}%`, `${((s['no clear difference'] ?? 0) * 100).toFixed(0)}%`]),
        },
      },
    ],
  });
  const truth = r.truth_comparison;
  if (truth) {
    sections.push({
      id: 'truth-comparison',
      title: 'Comparison with the known truth (synthetic cohorts)',
      blocks: [
        {
          kind: 'table',
          caption: `True effect of HAIC from the generator's counterfactual survival times (common random numbers), against the estimates. RMST to ${horizon} months.`,
          table: {
            columns: ['Group', 'n', 'True mean log HR', 'True RMST gain (months)', 'IPTW HR (estimate)', 'Model RMST gain, test (estimate)'],
            rows: truth.groups.map((g) => [g.group, g.n, f3(g.meanTrueLogHr), f2(g.trueDeltaRmst), g.estimatedIptwHr === null ? null : f2(g.estimatedIptwHr), g.estimatedDeltaRmst === null ? null : f2(g.estimatedDeltaRmst)]),
          },
        },
        { kind: 'paragraph', text: `Firm recommendations that agree with the sign of the true effect: ${truth.recommendationAgreement === null ? 'none given' : `${(truth.recommendationAgreement * 100).toFixed(0)}%`}.` },
      ],
    });
  }
  sections.push({
    id: 'provenance',
    title: 'Provenance',
    blocks: [
      {
        kind: 'table',
        caption: 'Software, configuration and stage hashes (study.lock). A rerun with the same lock reproduces every number.',
        table: {
          columns: ['Item', 'Value'],
          rows: [
            ['hcc-iat', r.provenance.lock.hccIat],
            ['Node', r.provenance.lock.node],
            ['libtorch', r.provenance.lock.libtorch ?? 'not used'],
            ['Config hash', r.provenance.lock.configHash.slice(0, 16)],
            ...Object.entries(r.provenance.lock.seeds).map(([k, v]) => [`seed ${k}`, String(v)] as [string, string]),
          ],
        },
      },
      {
        kind: 'table',
        caption: `Stages: input hash, and the compute each took over all its sittings (a stage killed and resumed counts every sitting; CPU seconds include worker and libtorch threads). Total: ${formatCompute(sumCompute(r.provenance.stages))}.`,
        table: {
          columns: ['Stage', 'Inputs', 'Wall seconds', 'CPU seconds', 'Sittings'],
          rows: r.provenance.stages.map((s) => [s.stage, s.inputHash.slice(0, 12), Number((s.compute?.wallSeconds ?? s.seconds).toFixed(1)), s.compute ? Number(s.compute.cpuSeconds.toFixed(1)) : null, s.compute?.sittings ?? null]),
        },
      },
    ],
  });
  return renderReport({
    title: `hcc-iat study report: ${r.study}`,
    subtitle: 'Proliferative-HCC imaging score, Cox nomogram and TACE/HAIC benefit (after Cao, An et al., npj Digit Med 2025)',
    ...(r.synthetic ? { banner: 'Synthetic data: every model here was trained on simulated patients. Research use only; not for clinical decisions.' } : {}),
    sections,
  });
}
