/**
 * Contrast phase from DICOM headers, and the arterial / portal-venous pairing `hcc info` proposes for a study.
 *
 * Evidence, strongest first: words in SeriesDescription (scanners and technologists label phases: "ART",
 * "arterial", "PV", "portal", "venous", "delay", "non-contrast"...), ContrastBolusAgent (empty or absent on
 * an unenhanced scan), and acquisition time relative to the study's other contrast series (arterial about 35 s
 * after injection, portal-venous about 70 s). Every guess carries its reasons, because a wrong pairing silently
 * swaps the model's channels.
 */
import type { Phase } from '../volume.js';
import type { DataSet } from './parse.js';
import { Tag } from './tags.js';

export interface PhaseHints {
  phase: Phase;
  reasons: string[];
  contrastAgent?: string;
  /** Seconds since midnight of AcquisitionTime (else SeriesTime, else ContentTime). */
  acquisitionSeconds?: number;
}

const WORDS: [Phase, RegExp][] = [
  ['unenhanced', /\b(non[- ]?con(trast)?|nc|plain|pre[- ]?(con(trast)?)?|native|unenhanced|without)\b/i],
  ['arterial', /\b(arterial|arterial phase|art|ap|hap|lap|late art|early art|angio)\b|arteri/i],
  ['portal_venous', /\b(portal|pv|pvp|venous|ven|portovenous|porto[- ]?venous)\b/i],
  ['delayed', /\b(delay(ed)?|equilibrium|eq|late|transitional|hepatobiliary|hbp)\b/i],
];

/** DICOM TM (HHMMSS.frac, or HH:MM:SS in old files) to seconds since midnight. */
export function tmSeconds(tm: string | undefined): number | undefined {
  if (!tm) return undefined;
  const m = /^(\d{2}):?(\d{2})?:?(\d{2}(\.\d+)?)?/.exec(tm.trim());
  if (!m) return undefined;
  return Number(m[1]) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

export function phaseFromDescription(description: string | undefined): Phase | undefined {
  if (!description) return undefined;
  const text = description.replace(/[_/]+/g, ' ');
  // "art" inside "portal venous art..." is rare; the first phase word found in priority order wins.
  for (const [phase, re] of WORDS) if (re.test(text)) return phase;
  return undefined;
}

export function phaseHints(ds: DataSet): PhaseHints {
  const description = ds.string(Tag.SeriesDescription);
  const agent = ds.string(Tag.ContrastBolusAgent);
  const acquisitionSeconds = tmSeconds(ds.string(Tag.AcquisitionTime)) ?? tmSeconds(ds.string(Tag.SeriesTime)) ?? tmSeconds(ds.string(Tag.ContentTime));
  const reasons: string[] = [];
  let phase: Phase = 'unknown';
  const fromWords = phaseFromDescription(description);
  if (fromWords) {
    phase = fromWords;
    reasons.push(`SeriesDescription '${description}' names the ${fromWords.replace('_', '-')} phase`);
  }
  if (agent) reasons.push(`ContrastBolusAgent '${agent}' says contrast was given`);
  else if (ds.has(Tag.ContrastBolusAgent)) {
    reasons.push('ContrastBolusAgent is present but empty');
  }
  if (phase === 'unknown' && ds.has(Tag.ContrastBolusAgent) && !agent) {
    phase = 'unenhanced';
    reasons.push('no contrast agent recorded: taken as unenhanced');
  }
  return { phase, reasons, contrastAgent: agent, acquisitionSeconds };
}

export interface PairCandidate {
  seriesUid: string;
  modality?: string;
  studyUid?: string;
  frameOfReferenceUid?: string;
  description?: string;
  slices: number;
  hints: PhaseHints;
}

export interface PhasePairing {
  arterial?: string;
  portalVenous?: string;
  confident: boolean;
  reasons: string[];
}

/**
 * Proposes which series is arterial and which portal-venous. Labelled phases win; otherwise contrast series are
 * ordered by acquisition time and the first two taken as arterial then portal-venous, when their spacing in
 * time is plausible (10-120 s apart). Only one modality is paired (CT when present); series with fewer than 10
 * slices (scouts, bolus tracking) are ignored.
 */
export function proposePairing(candidates: PairCandidate[]): PhasePairing {
  const reasons: string[] = [];
  // Phases pair within one modality: CT when there is CT, else the commonest one.
  const modalities = candidates.map((c) => c.modality ?? '');
  const count = (m: string) => modalities.filter((x) => x === m).length;
  const modality = modalities.includes('CT') ? 'CT' : [...modalities].sort((a, b) => count(b) - count(a))[0];
  const sameModality = candidates.filter((c) => (c.modality ?? '') === modality);
  if (sameModality.length < candidates.length) reasons.push(`${candidates.length - sameModality.length} series of other modalities than ${modality || 'unknown'} ignored`);
  const volumes = sameModality.filter((c) => c.slices >= 10);
  const skipped = sameModality.length - volumes.length;
  if (skipped > 0) reasons.push(`${skipped} series with fewer than 10 slices ignored (localisers, bolus tracking)`);
  const labelled = (phase: Phase) => volumes.filter((c) => c.hints.phase === phase);
  const name = (c: PairCandidate) => `${c.seriesUid}${c.description ? ` ('${c.description}')` : ''}`;
  let arterial: PairCandidate | undefined = labelled('arterial')[0];
  let portal: PairCandidate | undefined = labelled('portal_venous')[0];
  if (arterial) reasons.push(`arterial: ${name(arterial)}, labelled arterial in SeriesDescription`);
  if (portal) reasons.push(`portal-venous: ${name(portal)}, labelled portal-venous in SeriesDescription`);
  const contrast = volumes
    .filter((c) => c.hints.phase !== 'unenhanced' && c !== arterial && c !== portal && c.hints.acquisitionSeconds !== undefined)
    .sort((a, b) => a.hints.acquisitionSeconds! - b.hints.acquisitionSeconds!);
  const t = (c: PairCandidate) => c.hints.acquisitionSeconds!;
  if (!arterial && !portal && contrast.length >= 2) {
    const [a, p] = contrast;
    [arterial, portal] = [a, p];
    reasons.push(`arterial: ${name(a)}, the earliest contrast series by acquisition time`);
    reasons.push(`portal-venous: ${name(p)}, the next one, ${(t(p) - t(a)).toFixed(0)} s later`);
  } else if (arterial && !portal) {
    portal = contrast.find((c) => arterial!.hints.acquisitionSeconds !== undefined && t(c) > t(arterial!));
    if (portal) reasons.push(`portal-venous: ${name(portal)}, the next contrast series after the arterial one (${(t(portal) - t(arterial)).toFixed(0)} s later)`);
  } else if (portal && !arterial) {
    arterial = [...contrast].reverse().find((c) => portal!.hints.acquisitionSeconds !== undefined && t(c) < t(portal!));
    if (arterial) reasons.push(`arterial: ${name(arterial)}, the contrast series just before the portal-venous one (${(t(portal) - t(arterial)).toFixed(0)} s earlier)`);
  }
  let confident = arterial !== undefined && portal !== undefined;
  if (arterial && portal) {
    if (arterial.hints.acquisitionSeconds !== undefined && portal.hints.acquisitionSeconds !== undefined) {
      const dt = t(portal) - t(arterial);
      if (dt <= 0) {
        confident = false;
        reasons.push(`warning: the arterial series was acquired ${(-dt).toFixed(0)} s after the portal-venous one: check the labels`);
      } else if (dt < 10 || dt > 120) {
        confident = false;
        reasons.push(`warning: ${dt.toFixed(0)} s between arterial and portal-venous, outside the usual 10-120 s`);
      }
    }
    if (arterial.frameOfReferenceUid && portal.frameOfReferenceUid && arterial.frameOfReferenceUid !== portal.frameOfReferenceUid) {
      reasons.push('note: the two series have different FrameOfReferenceUIDs: they will be registered, not just resampled');
    }
    if (arterial.studyUid && portal.studyUid && arterial.studyUid !== portal.studyUid) {
      confident = false;
      reasons.push('warning: the two series belong to different studies');
    }
  } else {
    reasons.push(`no pairing: found ${arterial ? 'an arterial' : 'no arterial'} and ${portal ? 'a portal-venous' : 'no portal-venous'} series`);
  }
  return { arterial: arterial?.seriesUid, portalVenous: portal?.seriesUid, confident, reasons };
}
