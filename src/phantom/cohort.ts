import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CLINICAL_COLUMNS, type ClinicalRecord } from '../clinical/schema.js';
import { STAGE_COLUMNS, albi, deriveStages, type StageRow } from '../staging/index.js';
import { formatCsv } from '../util/csv.js';
import { writeJsonAtomicSync } from '../util/atomic.js';
import { HccError } from '../util/errors.js';
import { createProgress } from '../util/progress.js';
import { blockRng, drawAfp, drawBurden, drawClinical, drawPhenotype, roundTo } from './clinical.js';
import { COHORT_MODEL } from './model.js';
import { assignTreatment, drawSurvival, highBurden, prognosticIndex, treatmentLogHazardRatio } from './outcomes.js';
import type { CohortKind, PatientRecord } from './patient.js';

/**
 * The synthetic cohort of clinical-model.md §6: one patient at a time (`generatePatient` is a pure function of
 * seed, cohort and index), written as rows of cohort.csv (what a study sees) and truth.csv (what only the
 * simulation knows), streamed so that memory stays flat in N.
 */

export interface GeneratedPatient {
  record: PatientRecord;
  stages: StageRow;
  /** True log-HR of HAIC vs TACE for this patient (iat), null for resection. */
  logHrHaic: number | null;
}

export function patientId(cohort: CohortKind, index: number): string {
  return `${cohort === 'resection' ? 'R' : 'I'}${String(index + 1).padStart(5, '0')}`;
}

/** The index `generatePatient` takes for a generated id: the inverse of `patientId`. */
export function patientIndex(cohort: CohortKind, id: string): number {
  const m = /^([RI])(\d{5,})$/.exec(id);
  const index = m ? Number(m[2]) - 1 : -1;
  if (!m || index < 0 || patientId(cohort, index) !== id) {
    throw new HccError(`'${id}' is not a generated ${cohort} patient id (expected ${patientId(cohort, 0)}, ${patientId(cohort, 1)}, ...)`);
  }
  return index;
}

export function generatePatient(cohort: CohortKind, seed: number, index: number): GeneratedPatient {
  if (!Number.isInteger(index) || index < 0) throw new RangeError(`generatePatient: index must be a non-negative integer, got ${index}`);
  const { P, u, x } = drawPhenotype(blockRng(seed, cohort, index, 'phenotype'), COHORT_MODEL.prevalence[cohort]);
  const burden = drawBurden(blockRng(seed, cohort, index, 'burden'), cohort, P);
  const c = drawClinical(blockRng(seed, cohort, index, 'clinical'));
  const afp = drawAfp(blockRng(seed, cohort, index, 'afp'), cohort, P, burden.diameterCm, burden.pvtt);
  const id = patientId(cohort, index);
  const clinical: ClinicalRecord = {
    id,
    age_years: c.age,
    sex: c.sex,
    hbv: c.hbv,
    afp_ng_ml: afp,
    bilirubin_umol_l: c.bilirubin,
    albumin_g_l: c.albumin,
    inr: c.inr,
    ascites: c.ascites,
    encephalopathy: c.encephalopathy,
    ecog: c.ecog,
    tumour_count: burden.count,
    tumour_diameter_cm: burden.diameterCm,
    liver_occupancy_fraction: burden.occupancy,
    pvtt: burden.pvtt,
    vp_grade: burden.vpGrade,
    ehs: burden.ehs,
    nodes: burden.nodes,
  };
  // η from the recorded (rounded) values, so that anyone recomputing it from cohort.csv gets the same number.
  const eta = prognosticIndex({
    age: c.age,
    P,
    diameterCm: burden.diameterCm,
    count: burden.count,
    pvtt: burden.pvtt,
    ehs: burden.ehs,
    albiScore: albi(clinical).score,
    afpNgMl: afp,
    ecog: c.ecog,
  });
  let tTace: number | null = null;
  let tHaic: number | null = null;
  let logHrHaic: number | null = null;
  if (cohort === 'iat') {
    const treatment = assignTreatment(blockRng(seed, cohort, index, 'treatment'), burden.diameterCm, burden.pvtt, burden.count);
    logHrHaic = treatmentLogHazardRatio(P, highBurden(burden.diameterCm, burden.pvtt));
    const s = drawSurvival(blockRng(seed, cohort, index, 'survival'), eta, logHrHaic);
    tTace = s.tTace;
    tHaic = s.tHaic;
    const t = treatment === 'HAIC' ? s.tHaic : s.tTace;
    clinical.treatment = treatment;
    clinical.os_months = Math.max(0.01, roundTo(Math.min(t, s.censorMonths), 2));
    clinical.os_event = t <= s.censorMonths ? 1 : 0;
  } else {
    const flip = blockRng(seed, cohort, index, 'label').bernoulli(COHORT_MODEL.labelNoise);
    clinical.proliferative = (flip ? 1 - P : P) as 0 | 1;
  }
  const record: PatientRecord = {
    id,
    cohort,
    index,
    seed,
    clinical,
    tumourDiametersCm: burden.diametersCm,
    treatment: clinical.treatment ?? null,
    truth: { P, u, x, eta, liverDysfunction: c.liverDysfunction, tTace, tHaic },
  };
  return { record, stages: deriveStages(clinical, id), logHrHaic };
}

/** cohort.csv columns: the schema's columns this cohort has, then every derived stage. */
export function cohortColumns(cohort: CohortKind): string[] {
  const excluded = cohort === 'iat' ? ['proliferative'] : ['treatment', 'os_months', 'os_event'];
  return [...CLINICAL_COLUMNS.map((c) => c.name).filter((n) => !excluded.includes(n)), ...STAGE_COLUMNS];
}

export const PHENOTYPE_COLUMNS = ['x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7', 'x8'];

/** truth.csv columns: P, u, x1..x8 (§6.1 order), eta; iat adds the counterfactual times and the true log-HR. */
export function truthColumns(cohort: CohortKind): string[] {
  const base = ['id', 'P', 'u', ...PHENOTYPE_COLUMNS, 'eta'];
  return cohort === 'iat' ? [...base, 't_tace', 't_haic', 'log_hr_haic'] : base;
}

export function cohortRow(g: GeneratedPatient): Record<string, unknown> {
  // Object.assign, not spread: spreading these mixed-shape objects is 30x slower in V8 and dominated the run time.
  return Object.assign({} as Record<string, unknown>, g.record.clinical, g.stages);
}

export function truthRow(g: GeneratedPatient): Record<string, unknown> {
  const t = g.record.truth;
  const row: Record<string, unknown> = { id: g.record.id, P: t.P, u: t.u, eta: t.eta };
  t.x.forEach((v, k) => (row[PHENOTYPE_COLUMNS[k]!] = v));
  if (g.record.cohort === 'iat') Object.assign(row, { t_tace: t.tTace, t_haic: t.tHaic, log_hr_haic: g.logHrHaic });
  return row;
}

/**
 * A CSV file written in chunks to a temporary sibling and renamed into place when complete, so a killed run
 * never leaves a truncated cohort.csv; it also hashes what it writes (the cohort hash of model provenance).
 */
class StreamingCsv {
  private readonly tmp: string;
  private readonly fd: number;
  private readonly hash = createHash('sha256');
  private pending: Array<Record<string, unknown>> = [];
  private readonly headerLength: number;

  constructor(
    readonly path: string,
    private readonly columns: string[],
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
    this.fd = openSync(this.tmp, 'w');
    const header = formatCsv(columns, []);
    this.headerLength = header.length;
    this.write(header);
  }

  push(row: Record<string, unknown>): void {
    this.pending.push(row);
    if (this.pending.length >= 2000) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.write(formatCsv(this.columns, this.pending).slice(this.headerLength));
    this.pending = [];
  }

  private write(text: string): void {
    const bytes = Buffer.from(text, 'utf8');
    this.hash.update(bytes);
    writeSync(this.fd, bytes);
  }

  /** Finishes the file and returns its SHA-256. */
  commit(): string {
    this.flush();
    closeSync(this.fd);
    renameSync(this.tmp, this.path);
    return this.hash.digest('hex');
  }

  abort(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    rmSync(this.tmp, { force: true });
  }
}

export interface CohortOptions {
  cohort: CohortKind;
  n: number;
  seed: number;
  out: string;
  /** Called for every patient in index order, e.g. to queue its CT rendering; awaited so it can apply backpressure. */
  onPatient?: (g: GeneratedPatient) => void | Promise<void>;
  progress?: boolean;
  /** Recorded in cohort.json. */
  provenance?: Record<string, unknown>;
}

export interface CohortSummary {
  cohort: CohortKind;
  n: number;
  seed: number;
  out: string;
  files: Record<string, string>;
  proliferativeTrue: number;
  proliferativeObserved?: number;
  haicFraction?: number;
  eventFraction?: number;
}

/** Writes cohort.csv, truth.csv and cohort.json in `out`; returns counts and the SHA-256 of each file. */
export async function writeCohort(options: CohortOptions): Promise<CohortSummary> {
  const { cohort, n, seed, out } = options;
  if (!Number.isInteger(n) || n < 1) throw new HccError(`--n must be a positive whole number of patients, got ${n}`);
  if (!Number.isInteger(seed) || seed < 0 || seed > Number.MAX_SAFE_INTEGER) throw new HccError(`--seed must be a non-negative integer, got ${seed}`);
  const cohortCsv = new StreamingCsv(join(out, 'cohort.csv'), cohortColumns(cohort));
  const truthCsv = new StreamingCsv(join(out, 'truth.csv'), truthColumns(cohort));
  const progress = createProgress({ label: `cohort ${cohort}`, total: n, unit: 'patients', mode: options.progress === false ? 'none' : undefined });
  let pTrue = 0;
  let pObs = 0;
  let haic = 0;
  let events = 0;
  try {
    for (let i = 0; i < n; i++) {
      const g = generatePatient(cohort, seed, i);
      cohortCsv.push(cohortRow(g));
      truthCsv.push(truthRow(g));
      const c = g.record.clinical;
      pTrue += g.record.truth.P;
      pObs += c.proliferative ?? 0;
      haic += Number(c.treatment === 'HAIC');
      events += c.os_event ?? 0;
      if (options.onPatient) await options.onPatient(g);
      progress.tick();
    }
  } catch (err) {
    cohortCsv.abort();
    truthCsv.abort();
    throw err;
  }
  const files = { 'cohort.csv': cohortCsv.commit(), 'truth.csv': truthCsv.commit() };
  progress.done();
  const summary: CohortSummary = {
    cohort,
    n,
    seed,
    out,
    files,
    proliferativeTrue: pTrue / n,
    ...(cohort === 'resection' ? { proliferativeObserved: pObs / n } : { haicFraction: haic / n, eventFraction: events / n }),
  };
  // Parameters and hashes only: cohort-level truth (the true prevalence) stays out of what a study reads.
  writeJsonAtomicSync(join(out, 'cohort.json'), {
    kind: 'hcc-iat synthetic cohort',
    version: 1,
    generator: 'clinical-model.md §6',
    cohort,
    n,
    seed,
    files,
    ...options.provenance,
    model: COHORT_MODEL,
  });
  return summary;
}
