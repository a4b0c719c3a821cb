import { existsSync, readFileSync } from 'node:fs';
import type { Explanation } from '../pmn/explain.js';
import type { PredictOutput } from '../study/predict.js';
import { renderReport, type Block, type Section } from './html.js';
import { xyChart, type Point } from './svg/xy-chart.js';

/** One patient's prediction as a self-contained HTML page a clinician can read and file. */
export function renderPatientReport(p: PredictOutput): string {
  const s = p.survival;
  const withStart = (values: number[]): Point[] => [[0, 1], ...s.times.map((t, k) => [t, values[k]!] as Point)];
  const band = (ci: Array<[number, number]>) => ({ lower: withStart(ci.map((c) => c[0])), upper: withStart(ci.map((c) => c[1])) });
  const sections: Section[] = [
    {
      id: 'recommendation',
      title: 'Recommendation',
      blocks: [{ kind: 'paragraph', text: p.recommendation.text }, ...(p.warnings.length ? [{ kind: 'list' as const, items: p.warnings.map((w) => `Check: ${w}`) }] : [])],
    },
    {
      id: 'survival',
      title: 'Predicted survival under each treatment',
      blocks: [
        {
          kind: 'figure',
          svg: xyChart({
            xLabel: 'Months',
            yLabel: 'Predicted overall survival',
            yDomain: [0, 1],
            xDomain: [0, s.horizon],
            series: [
              { label: 'TACE', kind: 'line', points: withStart(s.tace), band: band(s.taceCi) },
              { label: 'HAIC', kind: 'line', points: withStart(s.haic), band: band(s.haicCi) },
            ],
          }),
          caption: 'Survival at the study times under each treatment, with bootstrap 95% CIs (lines join the evaluated times).',
        },
        {
          kind: 'table',
          caption: `Restricted mean survival to ${s.horizon} months.`,
          table: {
            columns: ['', ...s.times.map((t) => `${t} months`), `RMST ${s.horizon} mo`],
            rows: [
              ['TACE', ...s.tace.map((v, k) => `${(v * 100).toFixed(0)}% (${(s.taceCi[k]![0] * 100).toFixed(0)}-${(s.taceCi[k]![1] * 100).toFixed(0)})`), s.rmstTace.toFixed(1)],
              ['HAIC', ...s.haic.map((v, k) => `${(v * 100).toFixed(0)}% (${(s.haicCi[k]![0] * 100).toFixed(0)}-${(s.haicCi[k]![1] * 100).toFixed(0)})`), s.rmstHaic.toFixed(1)],
            ],
          },
        },
      ],
    },
    ...(p.imaging ? [{ id: 'pmn', title: 'Imaging: proliferative subtype (PMN)', blocks: imagingBlocks(p.imaging) }] : []),
    {
      id: 'nomogram',
      title: 'Nomogram',
      blocks: [
        { kind: 'paragraph', text: `Linear predictor ${p.nomogram.lp.toFixed(3)} against the study's cut-off ${p.nomogram.cutoff.toFixed(3)}: ${p.nomogram.riskGroup} risk.` },
        { kind: 'table', caption: 'Each term: the value used and its contribution to the linear predictor (coefficient x (value - training mean)).', table: { columns: ['Term', 'Value', 'Contribution'], rows: p.nomogram.terms.map((t) => [t.label, t.value, Number(t.contribution.toFixed(3))]) } },
      ],
    },
    {
      id: 'staging',
      title: 'Staging of the same patient',
      blocks: [{ kind: 'table', caption: 'Derived from the clinical input with src/staging.', table: { columns: ['System', 'Stage or score'], rows: Object.entries(p.staging).map(([k, v]) => [k, v === null ? 'not derivable (inputs missing)' : String(v)]) } }],
    },
    {
      id: 'provenance',
      title: 'Provenance',
      blocks: [{ kind: 'paragraph', text: `Study '${p.provenance.study}' (${p.provenance.studyDir}); models trained on ${p.provenance.syntheticTraining ? 'synthetic' : 'real'} data; model card: ${p.provenance.modelCard}.` }],
    },
  ];
  return renderReport({ title: 'hcc-iat: TACE or HAIC for one patient', ...(p.banner ? { banner: p.banner } : {}), sections });
}

const percent = (p: number) => `${(p * 100).toFixed(0)}%`;

/** One tumour's prototypes by the size of their contribution, and the similarity maps of the strongest `maps`. */
function prototypeBlocks(e: Explanation, rows: number, maps: number, which: string): Block[] {
  return [
    {
      kind: 'table',
      caption: `${which}: prototypes by the size of their contribution to the proliferative log-odds.`,
      table: {
        columns: ['Prototype', 'Class', 'Similarity', 'Contribution (log-odds)', 'Pushed from'],
        rows: e.prototypes.slice(0, rows).map((x) => [
          x.prototype,
          x.class ? 'proliferative' : 'non-proliferative',
          Number(x.similarity.toFixed(3)),
          Number(x.contribution.toFixed(3)),
          x.pushedFrom ? `training case ${x.pushedFrom.caseId}` : '',
        ]),
      },
    },
    ...e.prototypes
      .slice(0, maps)
      .filter((x) => existsSync(x.similarityMap))
      .map((x): Block => ({ kind: 'image', png: readFileSync(x.similarityMap), alt: `similarity map of prototype ${x.prototype}`, caption: `${which}: where prototype ${x.prototype} matches (similarity map).` })),
  ];
}

/**
 * The PMN's reading. With several tumours read one by one (the study's `pmn.tumours: all`), each gets its
 * probability and its strongest prototypes, since the patient's value is their mean and a reader must see which
 * tumour drives it.
 */
function imagingBlocks(im: NonNullable<PredictOutput['imaging']>): Block[] {
  const intro = `Probability of the proliferative subtype ${percent(im.probability)}; imaging risk score ${im.riskScore.toFixed(2)} (standardised on the training cohort).`;
  const prototypes = 'The prototypes below are learned tumour patterns, each taken from a real training case; their contributions add up to the log-odds.';
  if (!im.tumours || im.tumours.length < 2) return [{ kind: 'paragraph', text: `${intro} ${prototypes}` }, ...prototypeBlocks(im.explanation, 6, 3, 'The tumour')];
  return [
    { kind: 'paragraph', text: `${intro} As the study scored its cases, each of the ${im.tumours.length} tumours of at least 1 cm was read on its own: the probability is that of the mean of their log-odds, the risk score their mean. ${prototypes}` },
    {
      kind: 'table',
      caption: 'Each tumour read on its own crop (largest first; centre in RAS millimetres).',
      table: {
        columns: ['Tumour', 'Volume (mL)', 'Centre (mm)', 'Proliferative probability', 'Imaging risk score'],
        rows: im.tumours.map((t) => [t.tumour, Number(t.volumeMl.toFixed(1)), t.centreMm.map((c) => c.toFixed(0)).join(', '), percent(t.probability), Number(t.riskScore.toFixed(2))]),
      },
    },
    ...im.tumours.flatMap((t) => prototypeBlocks(t, 3, 1, `Tumour ${t.tumour} (${percent(t.probability)})`)),
  ];
}
