import { connectedComponents, keepLargestComponent, type Components } from '../imaging/ops/components.js';
import { labelMask } from '../imaging/ops/mask-volume.js';
import type { Volume } from '../imaging/volume.js';

/** What a stage's model.json may ask of postprocessing beyond nnU-Net's (all off when absent). */
export interface PostprocessingOptions {
  /**
   * Tumour components whose boundary borders predicted liver on less than this fraction are removed (set to
   * background). HCC arises in the liver, and on held-out phantoms the tumours predicted mostly outside it were
   * bowel gas, fat or kidney next to the liver; no reference tumour of the training phantoms borders liver on less
   * than 0.87 of its boundary. 0 keeps every component, as nnU-Net does.
   */
  tumourMinLiverContact?: number;
}

/** The 26 neighbour offsets of a voxel, as flat index steps, with their (di, dj, dk) for the bounds check. */
function neighbourSteps(nx: number, ny: number): Array<[number, number, number, number]> {
  const out: Array<[number, number, number, number]> = [];
  for (let dk = -1; dk <= 1; dk++) for (let dj = -1; dj <= 1; dj++) for (let di = -1; di <= 1; di++) {
    if (di || dj || dk) out.push([di, dj, dk, di + nx * (dj + ny * dk)]);
  }
  return out;
}

/**
 * For each 26-connected component of a label (`connectedComponents` of its mask, so callers that already have
 * the components do not label them again): the fraction of its boundary shell (the voxels outside it that touch
 * it, faces, edges or corners, within the volume) that carries `neighbour`. Index 0 is unused; a component
 * filling the whole volume has no shell and gets 1.
 */
export function componentContact(volume: Volume, components: Pick<Components, 'labels' | 'count'>, neighbour: number): number[] {
  const data = volume.data;
  const [nx, ny, nz] = volume.shape;
  const { labels, count } = components;
  const members: number[][] = Array.from({ length: count + 1 }, () => []);
  for (let i = 0; i < labels.length; i++) if (labels[i]) members[labels[i]!]!.push(i);
  const steps = neighbourSteps(nx, ny);
  // One stamp per shell voxel and component, so a voxel touching several voxels of a component counts once.
  const stamp = new Int32Array(labels.length);
  const contact = [0];
  for (let c = 1; c <= count; c++) {
    let shell = 0, touching = 0;
    for (const i of members[c]!) {
      const x = i % nx, y = Math.floor(i / nx) % ny, z = Math.floor(i / (nx * ny));
      for (const [di, dj, dk, step] of steps) {
        const xx = x + di, yy = y + dj, zz = z + dk;
        if (xx < 0 || yy < 0 || zz < 0 || xx >= nx || yy >= ny || zz >= nz) continue;
        const n = i + step;
        if (labels[n] === c || stamp[n] === c) continue;
        stamp[n] = c;
        shell++;
        if (data[n] === neighbour) touching++;
      }
    }
    contact.push(shell ? touching / shell : 1);
  }
  return contact;
}

/** What the liver-contact rule removed, so a reader of the result can tell (and undo it in model.json). */
export interface RemovedTumours {
  components: number;
  voxels: number;
}

/**
 * nnU-Net's LiTS postprocessing (the largest component of liver ∪ tumour, then of the liver; tumours never on
 * their own), then the optional liver-contact rule for tumour components. Works in place on 0/1/2 labels.
 */
export function postprocess(labels: Volume, options: PostprocessingOptions = {}): RemovedTumours {
  keepLargestComponent(labels, [1, 2]);
  keepLargestComponent(labels, [1]);
  const removed = { components: 0, voxels: 0 };
  const minContact = options.tumourMinLiverContact ?? 0;
  if (minContact <= 0) return removed;
  const tumours = connectedComponents(labelMask(labels.data, 2), labels.shape, 26);
  const components = tumours.labels;
  const contact = componentContact(labels, tumours, 1);
  const drop = contact.map((c, k) => k > 0 && c < minContact);
  removed.components = drop.filter(Boolean).length;
  for (let i = 0; i < components.length; i++) {
    if (components[i] && drop[components[i]!]) {
      labels.data[i] = 0;
      removed.voxels++;
    }
  }
  return removed;
}
