/**
 * De-identification following DICOM PS3.15 Annex E, the Basic Application Level Confidentiality Profile,
 * for every DICOM object and metadata file hcc-iat writes (`--deidentify`).
 *
 * The table holds the profile's actions for the attributes that CT series and our outputs carry (Table E.1-1):
 * Z = empty value, X = remove, D = dummy value, U = replace a UID by a consistent stand-in. Attributes the
 * profile does not list are kept, as the profile says. Private attributes and overlay/curve groups are
 * removed. The optional Retain UIDs Option keeps UIDs, so that a de-identified SEG still points at the source
 * series it was drawn on; the method code sequence records which options were applied.
 */
import { el, hashedUid, type WriteElement } from './write.js';

export type ProfileAction = 'keep' | 'Z' | 'X' | 'D' | 'U';

const t = (group: number, element: number) => ((group << 16) | element) >>> 0;

/** PS3.15 Table E.1-1, Basic Profile column, for the attributes relevant here. */
const ACTIONS = new Map<number, ProfileAction>([
  // Patient
  [t(0x0010, 0x0010), 'Z'], [t(0x0010, 0x0020), 'Z'], [t(0x0010, 0x0021), 'X'], [t(0x0010, 0x0030), 'Z'],
  [t(0x0010, 0x0032), 'X'], [t(0x0010, 0x0040), 'Z'], [t(0x0010, 0x1000), 'X'], [t(0x0010, 0x1001), 'X'],
  [t(0x0010, 0x1005), 'X'], [t(0x0010, 0x1010), 'X'], [t(0x0010, 0x1020), 'X'], [t(0x0010, 0x1030), 'X'],
  [t(0x0010, 0x1040), 'X'], [t(0x0010, 0x1060), 'X'], [t(0x0010, 0x1080), 'X'], [t(0x0010, 0x1081), 'X'],
  [t(0x0010, 0x1090), 'X'], [t(0x0010, 0x2150), 'X'], [t(0x0010, 0x2152), 'X'], [t(0x0010, 0x2154), 'X'],
  [t(0x0010, 0x2160), 'X'], [t(0x0010, 0x2180), 'X'], [t(0x0010, 0x21a0), 'X'], [t(0x0010, 0x21b0), 'X'],
  [t(0x0010, 0x21f0), 'X'], [t(0x0010, 0x4000), 'X'], [t(0x0038, 0x0010), 'X'], [t(0x0038, 0x0300), 'X'],
  [t(0x0038, 0x0400), 'X'], [t(0x0038, 0x0500), 'X'], [t(0x0040, 0x1001), 'X'],
  // Study, series, equipment, people
  [t(0x0008, 0x0020), 'Z'], [t(0x0008, 0x0021), 'X'], [t(0x0008, 0x0022), 'X'], [t(0x0008, 0x0023), 'D'],
  [t(0x0008, 0x002a), 'X'], [t(0x0008, 0x0030), 'Z'], [t(0x0008, 0x0031), 'X'], [t(0x0008, 0x0032), 'X'],
  [t(0x0008, 0x0033), 'D'], [t(0x0008, 0x0050), 'Z'], [t(0x0008, 0x0080), 'X'], [t(0x0008, 0x0081), 'X'],
  [t(0x0008, 0x0090), 'Z'], [t(0x0008, 0x0092), 'X'], [t(0x0008, 0x0094), 'X'], [t(0x0008, 0x0201), 'X'],
  [t(0x0008, 0x1010), 'X'], [t(0x0008, 0x1030), 'X'], [t(0x0008, 0x103e), 'X'], [t(0x0008, 0x1040), 'X'],
  [t(0x0008, 0x1048), 'X'], [t(0x0008, 0x1049), 'X'], [t(0x0008, 0x1050), 'X'], [t(0x0008, 0x1052), 'X'],
  [t(0x0008, 0x1060), 'X'], [t(0x0008, 0x1062), 'X'], [t(0x0008, 0x1070), 'X'], [t(0x0008, 0x1072), 'X'],
  [t(0x0008, 0x1080), 'X'], [t(0x0008, 0x1084), 'X'], [t(0x0008, 0x1110), 'X'], [t(0x0008, 0x1111), 'X'],
  [t(0x0008, 0x1120), 'X'], [t(0x0008, 0x2111), 'X'], [t(0x0008, 0x4000), 'X'], [t(0x0018, 0x1000), 'X'],
  [t(0x0018, 0x1030), 'X'], [t(0x0018, 0x1400), 'X'], [t(0x0018, 0x4000), 'X'], [t(0x0018, 0x0010), 'Z'],
  [t(0x0020, 0x0010), 'Z'], [t(0x0020, 0x4000), 'X'], [t(0x0020, 0x9158), 'X'], [t(0x0032, 0x1032), 'X'],
  [t(0x0032, 0x1033), 'X'], [t(0x0032, 0x1060), 'X'], [t(0x0032, 0x4000), 'X'], [t(0x0040, 0x0241), 'X'],
  [t(0x0040, 0x0242), 'X'], [t(0x0040, 0x0243), 'X'], [t(0x0040, 0x0244), 'X'], [t(0x0040, 0x0245), 'X'],
  [t(0x0040, 0x0253), 'X'], [t(0x0040, 0x0254), 'X'], [t(0x0040, 0x0275), 'X'], [t(0x0040, 0x0280), 'X'],
  [t(0x0040, 0xa124), 'U'], [t(0x0070, 0x0084), 'Z'], [t(0x0070, 0x0086), 'X'], [t(0x4008, 0x0114), 'X'],
  [t(0x0012, 0x0050), 'X'], [t(0x0012, 0x0060), 'Z'], [t(0x0012, 0x0071), 'X'], [t(0x0012, 0x0072), 'X'],
  // UIDs
  [t(0x0002, 0x0003), 'U'], [t(0x0008, 0x0014), 'U'], [t(0x0008, 0x0018), 'U'], [t(0x0008, 0x1155), 'U'],
  [t(0x0008, 0x3010), 'U'], [t(0x0020, 0x000d), 'U'], [t(0x0020, 0x000e), 'U'], [t(0x0020, 0x0052), 'U'],
  [t(0x0020, 0x0200), 'U'], [t(0x0020, 0x9161), 'U'], [t(0x0020, 0x9164), 'U'], [t(0x0028, 0x1199), 'U'],
  [t(0x0040, 0xa171), 'U'], [t(0x0088, 0x0140), 'U'], [t(0x3006, 0x0024), 'U'], [t(0x3006, 0x00c2), 'U'],
]);

export function profileAction(tag: number): ProfileAction {
  const group = tag >>> 16;
  if (group % 2 === 1) return 'X';
  // Curves (50xx) and overlays (60xx), whose comments and data may carry identity.
  if ((group & 0xff00) === 0x5000 || (group & 0xff00) === 0x6000) return 'X';
  return ACTIONS.get(tag) ?? 'keep';
}

export interface DeidentifyOptions {
  /** Keep UIDs (PS3.15 Retain UIDs Option): outputs still reference the identified source series. */
  retainUids?: boolean;
  /** Secret that keys UID replacement: same salt, same stand-ins across files of one export. */
  uidSalt: string;
}

/** A stand-in UID under the 2.25 (UUID-derived) arc, keyed by a secret so it cannot be recomputed. */
export function replacementUid(uid: string, salt: string): string {
  return hashedUid(salt, uid);
}

const DUMMY: Record<string, string> = { DA: '19000101', TM: '000000', DT: '19000101000000', PN: 'ANONYMOUS' };

/** Applies the profile to a data set (recursively into sequences) and adds the de-identification markers. */
export function deidentify(elements: WriteElement[], options: DeidentifyOptions): WriteElement[] {
  const apply = (list: WriteElement[]): WriteElement[] =>
    list.flatMap((e): WriteElement[] => {
      const action = profileAction(e.tag);
      if (action === 'X') return [];
      if (action === 'Z') return [el(e.tag, e.vr, e.vr === 'SQ' ? [] : '')];
      if (action === 'D') return [el(e.tag, e.vr, DUMMY[e.vr] ?? '')];
      if (action === 'U' && !options.retainUids) {
        const values = (Array.isArray(e.value) ? e.value : [e.value]) as string[];
        return [el(e.tag, e.vr, values.map((v) => replacementUid(v, options.uidSalt)))];
      }
      if (e.vr === 'SQ') return [el(e.tag, 'SQ', (e.value as WriteElement[][]).map(apply))];
      return [e];
    });
  const code = (value: string, meaning: string) => [el(0x00080100, 'SH', value), el(0x00080102, 'SH', 'DCM'), el(0x00080104, 'LO', meaning)];
  const methods = [code('113100', 'Basic Application Confidentiality Profile')];
  if (options.retainUids) methods.push(code('113110', 'Retain UIDs Option'));
  const kept = apply(elements).filter((e) => e.tag !== 0x00120062 && e.tag !== 0x00120063 && e.tag !== 0x00120064);
  return [
    ...kept,
    el(0x00120062, 'CS', 'YES'),
    el(0x00120063, 'LO', `DICOM PS3.15 E.1 Basic Profile${options.retainUids ? ', Retain UIDs' : ''} (hcc-iat)`),
    el(0x00120064, 'SQ', methods),
  ];
}
