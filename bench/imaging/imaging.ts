import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectedComponents } from '../../src/imaging/ops/components.js';
import { distanceTransform } from '../../src/imaging/ops/distance.js';
import { resampleImageToSpacing } from '../../src/imaging/ops/resample.js';
import { readNifti } from '../../src/imaging/nifti/read.js';
import { writeNifti } from '../../src/imaging/nifti/write.js';

/**
 * Imaging I/O and resampling benchmark against nibabel/scipy on the same files, in the same run.
 * Inputs: /usr/bin/python3 bench/imaging/make_big_ct.py /tmp/hcc-bench
 * Run:    nice node dist/bench/imaging/imaging.js /tmp/hcc-bench [repeats=3]
 * Prints a Markdown table for BENCHMARKS.md ("Imaging I/O"): median seconds, ratio ours / reference.
 */
const dir = process.argv[2] ?? '/tmp/hcc-bench';
const repeats = Number(process.argv[3] ?? 3);

async function medianTime(fn: () => unknown, n = repeats): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - t) / 1e9);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

const gz = join(dir, 'big_ct.nii.gz');
const raw = join(dir, 'big_ct.nii');
const vol = await readNifti(gz);
const out = join(dir, 'ours_written.nii.gz');
const mask = new Uint8Array(vol.data.length);
for (let i = 0; i < mask.length; i++) mask[i] = vol.data[i]! > 100 ? 1 : 0;
const ours: Record<string, number> = {
  read_gz: await medianTime(() => readNifti(gz)),
  read_nii: await medianTime(() => readNifti(raw)),
  write_gz: await medianTime(() => writeNifti(out, vol)),
  resample_linear: await medianTime(() => resampleImageToSpacing(vol, [1.5, 1.5, 1.5], 1, { separateZ: false })),
  resample_cubic: await medianTime(() => resampleImageToSpacing(vol, [1.5, 1.5, 1.5], 3, { separateZ: false })),
  components_26: await medianTime(() => connectedComponents(mask, vol.shape, 26), 1),
  edt_anisotropic: await medianTime(() => distanceTransform(mask.map((v) => 1 - v), vol.shape, vol.spacing), 1),
};
rmSync(out, { force: true });

const script = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', 'bench', 'imaging', 'reference.py');
let reference: Record<string, number> = {};
try {
  reference = JSON.parse(execFileSync('/usr/bin/python3', [script, dir, String(repeats)], { encoding: 'utf8' })) as Record<string, number>;
} catch (err) {
  console.error(`reference timings unavailable (${(err as Error).message.split('\n')[0]})`);
}

const labels: Record<string, string> = {
  read_gz: `read .nii.gz (${vol.shape.join('x')} int16) | nibabel load + dataobj`,
  read_nii: 'read .nii (88 MB) | nibabel load + dataobj',
  write_gz: 'write .nii.gz (gzip level 1) | nibabel save',
  resample_linear: 'resample 44M voxels to 1.5 mm, linear | scipy zoom order 1',
  resample_cubic: 'resample 44M voxels to 1.5 mm, cubic B-spline (nnU-Net) | scipy zoom order 3',
  components_26: '26-connected components of >100 HU | scipy label',
  edt_anisotropic: 'anisotropic EDT of >100 HU | scipy distance_transform_edt',
};
console.log(`machine: ${cpus()[0]?.model ?? 'unknown'} x${cpus().length}, node ${process.version}, repeats ${repeats} (1 for components/EDT)`);
console.log('| task | reference | ours (s) | reference (s) | ours / reference |');
console.log('|---|---|---|---|---|');
for (const [key, t] of Object.entries(ours)) {
  const [what, ref] = labels[key]!.split(' | ');
  const r = reference[key];
  console.log(`| ${what} | ${ref} | ${t.toFixed(2)} | ${r === undefined ? '–' : r.toFixed(2)} | ${r === undefined ? '–' : (t / r).toFixed(2)} |`);
}
