/**
 * An image case as CONTRACTS.md defines it: a path prefix P with P_art.nii.gz, P_pv.nii.gz and optionally
 * P_label.nii.gz (0 background, 1 liver, 2 tumour). Everything that names a case's files goes through here.
 */
export interface CasePaths {
  art: string;
  pv: string;
  label: string;
}

export function casePaths(prefix: string): CasePaths {
  return { art: `${prefix}_art.nii.gz`, pv: `${prefix}_pv.nii.gz`, label: `${prefix}_label.nii.gz` };
}
