import { existsSync, readFileSync } from 'node:fs';
import type { PredictOutput } from '../study/predict.js';
import { renderReport, type Section } from './html.js';
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
    ...(p.imaging
      ? [
          {
            id: 'pmn',
            title: 'Imaging: proliferative subtype (PMN)',
            blocks: [
              { kind: 'paragraph' as const, text: `Probability of the proliferative subtype ${(p.imaging.probability * 100).toFixed(0)}%; imaging risk score ${p.imaging.riskScore.toFixed(2)} (standardised on the training cohort). The prototypes below are learned tumour patterns, each taken from a real training case; their contributions add up to the log-odds.` },
              {
                kind: 'table' as const,
                caption: 'Prototypes by the size of their contribution to the proliferative log-odds.',
                table: {
                  columns: ['Prototype', 'Class', 'Similarity', 'Contribution (log-odds)', 'Pushed from'],
                  rows: p.imaging.explanation.prototypes.slice(0, 6).map((e) => [
                    e.prototype,
                    e.class ? 'proliferative' : 'non-proliferative',
                    Number(e.similarity.toFixed(3)),
                    Number(e.contribution.toFixed(3)),
                    e.pushedFrom ? `training case ${e.pushedFrom.caseId}` : '',
                  ]),
                },
              },
              ...p.imaging.explanation.prototypes
                .slice(0, 3)
                .filter((e) => existsSync(e.similarityMap))
                .map((e) => ({ kind: 'image' as const, png: readFileSync(e.similarityMap), alt: `similarity map of prototype ${e.prototype}`, caption: `Where prototype ${e.prototype} matches this tumour (similarity map).` })),
            ],
          },
        ]
      : []),
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
