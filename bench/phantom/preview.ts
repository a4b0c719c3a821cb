/**
 * Renders example phantoms and writes axial slices (arterial | portal-venous | label overlay, W400/L50) as PNG,
 * for docs/phantom.md and for looking at the renderer after a change.
 *
 *   node dist/bench/phantom/preview.js [--grid small|clinical|tiny] [--out docs/img] [--site NAME]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { encodePng, renderAxialSlice } from '../../src/imaging/png.js';
import type { Volume } from '../../src/imaging/volume.js';
import { examplePatient, type ExampleOverrides } from '../../src/phantom/ct/example.js';
import { renderPatient } from '../../src/phantom/ct/render.js';
import type { ImageGrid } from '../../src/phantom/patient.js';

const { values } = parseArgs({
  options: { grid: { type: 'string', default: 'small' }, out: { type: 'string', default: 'docs/img' }, site: { type: 'string' }, only: { type: 'string' } },
});
const grid = values.grid as ImageGrid;
mkdirSync(values.out!, { recursive: true });

const cases: Record<string, ExampleOverrides> = {
  typical: { seed: 11, tumourDiametersCm: [5.5], x: [0, -1, -1, -1, 0.8, 0, -1, -1] },
  proliferative: { seed: 12, tumourDiametersCm: [8, 2.5], x: [2.4, 2.0, 1.5, 1.8, 1.6, 1.6, 2.2, 2.0], pvtt: true, vpGrade: 3, liverDysfunction: 1, ascites: 'mild' },
  multifocal: { seed: 13, tumourDiametersCm: [4, 3, 2.2, 1.5], x: [1.6, 1.2, 0.2, -0.5, 1.0, 1.2, 0, 0.5], liverDysfunction: -0.5 },
};

function montage(volumes: Volume[], k: number, label: Volume): Buffer {
  const tiles = [
    renderAxialSlice(volumes[0]!, { slice: k }),
    renderAxialSlice(volumes[1]!, { slice: k }),
    renderAxialSlice(volumes[1]!, { slice: k, labels: label }),
  ];
  const { width, height } = tiles[0]!;
  const out = new Uint8Array(width * 3 * height * 3);
  tiles.forEach((t, n) => {
    for (let row = 0; row < height; row++) out.set(t.rgb.subarray(row * width * 3, (row + 1) * width * 3), (row * width * 3 + n * width) * 3);
  });
  return encodePng(out, width * 3, height, 3);
}

for (const [name, overrides] of Object.entries(cases)) {
  if (values.only && values.only !== name) continue;
  const t0 = performance.now();
  const c = renderPatient(examplePatient(overrides), { grid, site: values.site ?? null });
  const ms = performance.now() - t0;
  const [nx, ny, nz] = c.label.shape;
  let bestK = 0, bestCount = -1;
  for (let k = 0; k < nz; k++) {
    let n = 0;
    for (let v = k * nx * ny; v < (k + 1) * nx * ny; v++) if (c.label.data[v] === 2) n++;
    if (n > bestCount) [bestK, bestCount] = [k, n];
  }
  const step = Math.round(40 / c.label.spacing[2]);
  const slices = { tumour: bestK, upper: Math.min(nz - 1, bestK + step), lower: Math.max(0, bestK - step) };
  for (const [where, k] of Object.entries(slices)) {
    writeFileSync(join(values.out!, `phantom-${grid}-${name}-${where}.png`), montage([c.art, c.pv], k, c.label));
  }
  console.log(`${name}: ${c.art.shape.join('x')} spacing ${c.art.spacing.map((s) => s.toFixed(2)).join('x')} mm, ${ms.toFixed(0)} ms, slices ${JSON.stringify(slices)}`);
}
