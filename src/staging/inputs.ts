import { parseField, type ClinicalField, type ClinicalRecord } from '../clinical/schema.js';
import { HccError } from '../util/errors.js';

/**
 * Every staging function checks its own inputs against the clinical schema before applying a rule, so an
 * impossible value (albumin 300 g/L, a bilirubin typed in mg/dL where µmol/L is expected and out of range,
 * an ECOG of 7) is an error naming the system, the field, the value and the unit, never a silently wrong stage.
 */
export function checkInputs<K extends ClinicalField>(
  input: Readonly<Partial<Record<ClinicalField, unknown>>>,
  fields: readonly K[],
  system: string,
  where: string,
): Pick<ClinicalRecord, K> {
  const out: Partial<Record<ClinicalField, unknown>> = {};
  const missing: string[] = [];
  for (const f of fields) {
    const value = parseField(f, input[f], `${where}: ${system}`);
    if (value === null) missing.push(f);
    out[f] = value;
  }
  if (missing.length > 0) {
    throw new HccError(`${where}: ${system} needs ${missing.join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} missing`);
  }
  return out as Pick<ClinicalRecord, K>;
}

/** A patient has portal vein tumour thrombus of a major branch (first-order branch or trunk, Vp3-Vp4). */
export function majorPortalInvasion(p: Pick<ClinicalRecord, 'pvtt'> & { vp_grade?: number | null }): boolean {
  if (p.pvtt !== 1) return false;
  // An unknown Vp grade is taken as macrovascular (clinical-model.md §6.7 maps PVTT to T4).
  return p.vp_grade === null || p.vp_grade === undefined || p.vp_grade >= 3;
}

/** Distant metastasis (M1): extrahepatic spread that is not regional nodes only. */
export function distantMetastasis(p: Pick<ClinicalRecord, 'ehs' | 'nodes'>): boolean {
  return p.ehs === 1 && p.nodes === 0;
}

/** A field a system can use when present (the Vp grade refines TNM's T4); null when missing, an error when invalid. */
export function optionalInput<K extends ClinicalField>(
  input: Readonly<Partial<Record<ClinicalField, unknown>>>,
  field: K,
  system: string,
  where: string,
): ClinicalRecord[K] | null {
  return parseField(field, input[field], `${where}: ${system}`) as ClinicalRecord[K] | null;
}
