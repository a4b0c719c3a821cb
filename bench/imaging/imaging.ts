import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
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
 * Prints a Markdown table for BENCHMARKS.md ("Imaging I/O"): median seconds, ratio ours / reference. Each task is
 * timed in TypeScript and then, straight after, in Python, so a change in machine load hits both alike.
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
const ours: Record<string, () => unknown> = {
  read_gz: () => readNifti(gz),
  read_nii: () => readNifti(raw),
  write_gz: () => writeNifti(out, vol),
  resample_linear: () => resampleImageToSpacing(vol, [1.5, 1.5, 1.5], 1, { separateZ: false }),
  resample_cubic: () => resampleImageToSpacing(vol, [1.5, 1.5, 1.5], 3, { separateZ: false }),
  components_26: () => connectedComponents(mask, vol.shape, 26),
  edt_anisotropic: () => distanceTransform(mask.map((v) => 1 - v), vol.shape, vol.spacing),
};
const once = new Set(['components_26', 'edt_anisotropic']);
const script = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', 'bench', 'imaging', 'reference.py');

/** The reference time for one task, measured right after ours so both run under the same load. */
function referenceTime(task: string, n: number): number | undefined {
  try {
    return Number(execFileSync('/usr/bin/python3', [script, dir, String(n), task], { encoding: 'utf8' }).trim());
  } catch (err) {
    console.error(`reference timing for ${task} unavailable (${(err as Error).message.split('\n')[0]})`);
    return undefined;
  }
}

const results: Array<[string, number, number | undefined]> = [];
for (const [task, fn] of Object.entries(ours)) {
  const n = once.has(task) ? 1 : repeats;
  results.push([task, await medianTime(fn, n), referenceTime(task, n)]);
}
rmSync(out, { force: true });

const labels: Record<string, string> = {
  read_gz: `read .nii.gz (${vol.shape.join('x')} int16) | nibabel load + dataobj`,
  read_nii: 'read .nii (88 MB) | nibabel load + dataobj',
  write_gz: 'write .nii.gz (gzip level 1) | nibabel save',
  resample_linear: 'resample 44M voxels to 1.5 mm, linear | scipy zoom order 1',
  resample_cubic: 'resample 44M voxels to 1.5 mm, cubic B-spline (nnU-Net) | scipy zoom order 3',
  components_26: '26-connected components of >100 HU | scipy label',
  edt_anisotropic: 'anisotropic EDT of >100 HU | scipy distance_transform_edt',
};
console.log(`machine: ${cpus()[0]?.model ?? 'unknown'} x${cpus().length}, node ${process.version}, load average ${loadavg()[0]!.toFixed(1)}, repeats ${repeats} (1 for components/EDT)`);
console.log('| task | reference | ours (s) | reference (s) | ours / reference |');
console.log('|---|---|---|---|---|');
for (const [task, t, r] of results) {
  const [what, ref] = labels[task]!.split(' | ');
  console.log(`| ${what} | ${ref} | ${t.toFixed(2)} | ${r === undefined ? '–' : r.toFixed(2)} | ${r === undefined ? '–' : (t / r).toFixed(2)} |`);
}
