import type { Vec3, Volume } from '../volume.js';

/**
 * 3D connected components by two-pass union-find. Labels 1..count are numbered in order of each component's
 * first voxel in memory order (x fastest), which is scipy.ndimage.label's numbering on the [z, y, x] array.
 * 6-connectivity joins face neighbours, 18 adds edges, 26 adds corners (skimage's default in 3D, which nnU-Net's
 * postprocessing uses).
 */
export type Connectivity = 6 | 18 | 26;

export interface Components {
  /** 0 for background, else the component number. */
  labels: Int32Array;
  count: number;
  /** Voxel count per component; sizes[0] is unused (0). */
  sizes: number[];
}

/** Offsets (di, dj, dk) of the neighbours already visited in a raster scan. */
function backwardNeighbours(connectivity: Connectivity): Vec3[] {
  const out: Vec3[] = [];
  for (let dk = -1; dk <= 0; dk++) for (let dj = -1; dj <= 1; dj++) for (let di = -1; di <= 1; di++) {
    if (dk === 0 && (dj > 0 || (dj === 0 && di >= 0))) continue;
    const order = Math.abs(di) + Math.abs(dj) + Math.abs(dk);
    if (connectivity === 6 && order > 1) continue;
    if (connectivity === 18 && order > 2) continue;
    out.push([di, dj, dk]);
  }
  return out;
}

function find(parent: Int32Array, x: number): number {
  let r = x;
  while (parent[r] !== r) r = parent[r]!;
  while (parent[x] !== r) {
    const next = parent[x]!;
    parent[x] = r;
    x = next;
  }
  return r;
}

/** Components of the voxels where `mask` is non-zero. */
export function connectedComponents(mask: ArrayLike<number>, shape: Vec3, connectivity: Connectivity = 26): Components {
  const [nx, ny, nz] = shape;
  const labels = new Int32Array(nx * ny * nz);
  const neighbours = backwardNeighbours(connectivity);
  let next = 1;
  let parents = new Int32Array(1024);
  const union = (a: number, b: number) => {
    const ra = find(parents, a), rb = find(parents, b);
    if (ra !== rb) {
      if (ra < rb) parents[rb] = ra;
      else parents[ra] = rb;
    }
  };
  // Flat offset tables: destructuring the neighbour triples per foreground voxel dominated the run time.
  const m = neighbours.length;
  const ndi = Int32Array.from(neighbours, (o) => o[0]);
  const ndj = Int32Array.from(neighbours, (o) => o[1]);
  const ndk = Int32Array.from(neighbours, (o) => o[2]);
  const offset = Int32Array.from(neighbours, ([di, dj, dk]) => di + nx * (dj + ny * dk));
  let p = 0;
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++, p++) {
    if (!mask[p]) continue;
    let label = 0;
    // Away from the faces every neighbour exists; the bounds checks are only needed on the border.
    const inside = i > 0 && i < nx - 1 && j > 0 && j < ny - 1 && k > 0;
    for (let n = 0; n < m; n++) {
      if (!inside) {
        const ii = i + ndi[n]!, jj = j + ndj[n]!, kk = k + ndk[n]!;
        if (ii < 0 || ii >= nx || jj < 0 || jj >= ny || kk < 0) continue;
      }
      const l = labels[p + offset[n]!]!;
      if (!l) continue;
      if (!label) label = l;
      else if (l !== label) union(label, l);
    }
    if (!label) {
      label = next++;
      if (label >= parents.length) {
        const grown = new Int32Array(parents.length * 2);
        grown.set(parents);
        parents = grown;
      }
      parents[label] = label;
    }
    labels[p] = label;
  }
  // Final numbers by first appearance in the scan.
  const final = new Int32Array(next);
  const sizes = [0];
  let count = 0;
  for (let q = 0; q < labels.length; q++) {
    const l = labels[q]!;
    if (!l) continue;
    const r = find(parents, l);
    if (!final[r]) {
      final[r] = ++count;
      sizes.push(0);
    }
    const f = final[r]!;
    labels[q] = f;
    sizes[f]!++;
  }
  return { labels, count, sizes };
}

/** 1 where the voxel belongs to the largest component of `mask` (the first one on a tie), else 0. */
export function largestComponent(mask: ArrayLike<number>, shape: Vec3, connectivity: Connectivity = 26): Uint8Array {
  const { labels, count, sizes } = connectedComponents(mask, shape, connectivity);
  const out = new Uint8Array(labels.length);
  if (count === 0) return out;
  let best = 1;
  for (let c = 2; c <= count; c++) if (sizes[c]! > sizes[best]!) best = c;
  for (let i = 0; i < labels.length; i++) out[i] = labels[i] === best ? 1 : 0;
  return out;
}

/**
 * nnU-Net's remove_all_but_largest_component applied to a label volume: voxels whose label is in `labels` and that
 * lie outside the largest component of their union become 0. Call with [1, 2] (liver and tumour together) and
 * then [1], as nnU-Net's LiTS postprocessing does; never on the tumour label alone. Works in place and returns
 * the number of voxels removed.
 */
export function keepLargestComponent(volume: Volume, labels: number[], connectivity: Connectivity = 26): number {
  const wanted = new Set(labels);
  const data = volume.data;
  const mask = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) mask[i] = wanted.has(data[i]!) ? 1 : 0;
  const keep = largestComponent(mask, volume.shape, connectivity);
  let removed = 0;
  for (let i = 0; i < data.length; i++) {
    if (mask[i] && !keep[i]) {
      data[i] = 0;
      removed++;
    }
  }
  return removed;
}

/**
 * scipy.ndimage.binary_fill_holes: background voxels not 6-connected to the image border become foreground.
 * nnU-Net's crop_to_nonzero fills holes in the non-zero mask this way before taking its bounding box.
 */
export function fillHoles(mask: ArrayLike<number>, shape: Vec3): Uint8Array {
  const [nx, ny, nz] = shape;
  const background = new Uint8Array(nx * ny * nz);
  for (let i = 0; i < background.length; i++) background[i] = mask[i] ? 0 : 1;
  const { labels, count } = connectedComponents(background, shape, 6);
  const outside = new Uint8Array(count + 1);
  let p = 0;
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++, p++) {
    if (i === 0 || i === nx - 1 || j === 0 || j === ny - 1 || k === 0 || k === nz - 1) outside[labels[p]!] = 1;
  }
  const out = new Uint8Array(background.length);
  for (let i = 0; i < out.length; i++) out[i] = labels[i] && outside[labels[i]!] ? 0 : 1;
  return out;
}
