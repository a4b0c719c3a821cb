/**
 * Unit conversions for the laboratory values that staging rules quote in other units than the schema stores.
 * The schema keeps SI-style units (µmol/L, g/L, as Chinese and European labs report); Child-Pugh and Okuda are
 * written in mg/dL and g/dL. Conversions are rounded to 9 decimals so that a boundary entered in either unit
 * (51.3 µmol/L or 3 mg/dL) lands exactly on the rule's boundary instead of a floating-point hair beside it.
 */

/** µmol/L per mg/dL of bilirubin (molar mass 584.7 g/mol, the factor every hepatology paper uses). */
export const BILIRUBIN_UMOL_L_PER_MG_DL = 17.1;

const round9 = (x: number): number => Math.round(x * 1e9) / 1e9;

export function bilirubinUmolLToMgDl(umolL: number): number {
  return round9(umolL / BILIRUBIN_UMOL_L_PER_MG_DL);
}

export function bilirubinMgDlToUmolL(mgDl: number): number {
  return round9(mgDl * BILIRUBIN_UMOL_L_PER_MG_DL);
}

export function albuminGLToGDl(gL: number): number {
  return round9(gL / 10);
}

export function albuminGDlToGL(gDl: number): number {
  return round9(gDl * 10);
}
