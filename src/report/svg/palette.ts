/** Okabe-Ito: distinguishable with the common colour-vision deficiencies and in greyscale print. */
export const palette = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#F0E442', '#000000'];

export function colorAt(index: number): string {
  return palette[index % palette.length]!;
}
