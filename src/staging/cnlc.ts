import type { ClinicalField } from '../clinical/schema.js';
import { CHILD_PUGH_INPUTS, childPugh } from './child-pugh.js';
import { checkInputs } from './inputs.js';

/**
 * China Liver Cancer staging, 2022 edition (Zhou et al., Liver Cancer 2023; clinical-model.md §5):
 * IV: ECOG 3-4 or Child-Pugh C. Otherwise (ECOG 0-2, Child-Pugh A/B):
 * IIIb extrahepatic spread (nodes or distant); IIIa macrovascular tumour thrombus without EHS;
 * without either: Ia single ≤ 5 cm; Ib single > 5 cm, or 2-3 tumours with the largest ≤ 3 cm;
 * IIa 2-3 tumours with the largest > 3 cm; IIb ≥ 4 tumours.
 */
export const CNLC_INPUTS = [...CHILD_PUGH_INPUTS, 'ecog', 'pvtt', 'ehs', 'tumour_count', 'tumour_diameter_cm'] as const;
export type CnlcStage = 'Ia' | 'Ib' | 'IIa' | 'IIb' | 'IIIa' | 'IIIb' | 'IV';

export function cnlc(input: Readonly<Partial<Record<ClinicalField, unknown>>>, where = 'patient'): CnlcStage {
  const p = checkInputs(input, CNLC_INPUTS, 'CNLC', where);
  if (p.ecog >= 3 || childPugh(p, where).class === 'C') return 'IV';
  if (p.ehs === 1) return 'IIIb';
  if (p.pvtt === 1) return 'IIIa';
  if (p.tumour_count === 1) return p.tumour_diameter_cm <= 5 ? 'Ia' : 'Ib';
  if (p.tumour_count <= 3) return p.tumour_diameter_cm <= 3 ? 'Ib' : 'IIa';
  return 'IIb';
}
