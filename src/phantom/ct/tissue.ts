import type { Rng } from '../../util/rng.js';
import type { SiteProfile } from './site.js';

/**
 * Tissue classes of the phantom's anatomy map, and each patient's attenuation (HU) per class and phase.
 * Means and between-patient SDs are the §3 table of clinical-model.md; rows marked [D] there (and the few
 * structures §3 does not list: bowel, lung, heart, pancreas, bile) are plausibility choices documented in
 * docs/phantom.md.
 */
export const Tissue = {
  air: 0,
  fat: 1,
  muscle: 2,
  boneTrabecular: 3,
  boneCortical: 4,
  liver: 5,
  spleen: 6,
  kidneyCortex: 7,
  kidneyMedulla: 8,
  artery: 9,
  portalVein: 10,
  hepaticVein: 11,
  ivc: 12,
  pvtt: 13,
  bile: 14,
  bowelWall: 15,
  bowelFluid: 16,
  gas: 17,
  lung: 18,
  heartBlood: 19,
  myocardium: 20,
  pancreas: 21,
  disc: 22,
  csf: 23,
  stool: 24,
  ascites: 25,
  cartilage: 26,
  table: 27,
} as const;
export const TISSUE_COUNT = 28;

export interface PhaseHu {
  /** Mean HU per tissue class, indexed by Tissue. */
  mean: Float32Array;
  /** Texture amplitude per class (HU SD of the smooth random texture field). */
  texture: Float32Array;
}

/** A patient's attenuation: both phases, plus the tumour-relevant reference values of §3 and §6.1. */
export interface PatientHu {
  arterial: PhaseHu;
  portal: PhaseHu;
  /** Liver and aorta in PV, the reference of the washout depth (T_PV − L_PV)/A_PV. */
  liverPv: number;
  aortaPv: number;
  liverArt: number;
  aortaArt: number;
}

/**
 * Draws one patient's HU table. `cirrhosis` ∈ [0, 1] moves the liver from the normal to the cirrhotic row of §3.
 * Contrast timing shifts enhancement as a bolus does: an earlier arterial scan has a brighter aorta and a darker
 * portal vein and liver; a later one the reverse.
 */
export function drawPatientHu(rng: Rng, site: SiteProfile, cirrhosis: number): PatientHu {
  const a = (site.arterialDelayS - 35) / 10;
  const p = (site.portalDelayS - 70) / 15;
  const n = (mean: number, sd: number) => mean + sd * clampZ(rng.normal());
  const liverArt = n(85 - 5 * cirrhosis, 8) + 8 * a;
  const liverPv = n(120 - 15 * cirrhosis, 10) + 3 * p;
  const aortaArt = n(320, 30) - 40 * a;
  const aortaPv = n(165, 20) - 15 * p;
  const fat = n(-100, 12);
  const muscleShift = n(0, 5);
  const portalArt = n(145, 20) + 25 * a;
  const portalPv = n(175, 20) - 8 * p;
  const spleenArt = n(150, 20) + 10 * a;
  const spleenPv = n(125, 10);
  const cortexArt = n(180, 20);
  const boneShift = n(0, 30);
  const gut = n(0, 8);

  const art = new Float32Array(TISSUE_COUNT);
  const pv = new Float32Array(TISSUE_COUNT);
  const set = (t: number, av: number, pvv: number) => {
    art[t] = av;
    pv[t] = pvv;
  };
  set(Tissue.air, -1000, -1000);
  set(Tissue.fat, fat, fat);
  set(Tissue.muscle, 60 + muscleShift, 65 + muscleShift);
  set(Tissue.boneTrabecular, 200 + boneShift, 200 + boneShift);
  set(Tissue.boneCortical, 900 + 2 * boneShift, 900 + 2 * boneShift);
  set(Tissue.liver, liverArt, liverPv);
  set(Tissue.spleen, spleenArt, spleenPv);
  set(Tissue.kidneyCortex, cortexArt, 170 + 0.3 * (cortexArt - 180));
  set(Tissue.kidneyMedulla, 80 + 0.3 * (cortexArt - 180), 150);
  set(Tissue.artery, aortaArt, aortaPv);
  set(Tissue.portalVein, portalArt, portalPv);
  // Hepatic veins are still unopacified in the late arterial phase and fill by the portal-venous phase.
  set(Tissue.hepaticVein, 0.5 * (liverArt + 50), portalPv - 15);
  // Suprarenal IVC: mixing of opacified renal return with unopacified infrarenal blood.
  set(Tissue.ivc, 95, portalPv - 20);
  set(Tissue.pvtt, n(90, 8), n(80, 8));
  set(Tissue.bile, 8, 8);
  set(Tissue.bowelWall, 95 + gut, 105 + gut);
  set(Tissue.bowelFluid, 15, 15);
  set(Tissue.gas, -1000, -1000);
  set(Tissue.lung, -860, -860);
  set(Tissue.heartBlood, 0.85 * aortaArt, aortaPv - 5);
  set(Tissue.myocardium, 110, 115);
  set(Tissue.pancreas, 110 + gut, 95 + gut);
  set(Tissue.disc, 85, 85);
  set(Tissue.csf, 15, 15);
  set(Tissue.stool, -60, -60);
  set(Tissue.ascites, 10, 10);
  set(Tissue.cartilage, 140, 140);
  set(Tissue.table, 250, 250);

  const tex = (t: number, av: number, pvv: number, both = false) => {
    textureArt[t] = av;
    texturePv[t] = both ? av : pvv;
  };
  const textureArt = new Float32Array(TISSUE_COUNT);
  const texturePv = new Float32Array(TISSUE_COUNT);
  tex(Tissue.fat, 10, 10);
  tex(Tissue.muscle, 6, 6);
  tex(Tissue.boneTrabecular, 70, 70);
  tex(Tissue.boneCortical, 150, 150);
  tex(Tissue.liver, 4 + 5 * cirrhosis, 4 + 6 * cirrhosis);
  // Arciform (zebra) splenic enhancement in the arterial phase, homogeneous by the portal-venous phase.
  tex(Tissue.spleen, 28, 4);
  tex(Tissue.kidneyCortex, 8, 6);
  tex(Tissue.kidneyMedulla, 10, 6);
  tex(Tissue.pvtt, 12, 10);
  tex(Tissue.bowelWall, 10, 10);
  tex(Tissue.bowelFluid, 6, 6);
  tex(Tissue.lung, 40, 40);
  tex(Tissue.pancreas, 10, 8);
  tex(Tissue.stool, 180, 180);
  tex(Tissue.heartBlood, 10, 6);
  tex(Tissue.portalVein, 6, 4);
  return {
    arterial: { mean: art, texture: textureArt },
    portal: { mean: pv, texture: texturePv },
    liverPv: pv[Tissue.liver]!,
    aortaPv,
    liverArt,
    aortaArt,
  };
}

/** Draws beyond ±2.5 SD would give implausible enhancement; truncating keeps the §3 ranges physiological. */
function clampZ(z: number): number {
  return z < -2.5 ? -2.5 : z > 2.5 ? 2.5 : z;
}
