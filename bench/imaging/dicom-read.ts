/**
 * DICOM series to NIfTI: our conversion (what `hcc convert` runs: openImage + writeNifti, in a fresh node
 * process, without the CLI's other commands loaded) against Debian's dcm2niix on the same folders, in the same
 * run, runs interleaved, both as fresh processes paying their start-up, output uncompressed .nii. Also the
 * in-process time of discovery + readSeries alone (what a pipeline stage pays).
 *
 * Inputs come from make-dicom-series.ts (140 slices 512x512, uncompressed and JPEG 2000 lossless).
 * Run: node dist/bench/imaging/make-dicom-series.js /tmp/hcc-bench
 *      node dist/bench/imaging/dicom-read.js /tmp/hcc-bench [runs=3]
 * Prints one Markdown table row per input.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseSeries, discoverSeries, readSeries } from '../../src/imaging/dicom/series.js';
import { repoRoot } from '../../test/helpers.js';

/** As make-dicom-series.ts writes them. */
const SLICES = 140;

const dist = (path: string) => JSON.stringify(join(repoRoot, 'dist', 'src', path));

function convertScript(input: string, output: string): string {
  return `import { openImage } from ${dist('imaging/dicom/open.js')};
import { writeNifti } from ${dist('imaging/nifti/write.js')};
const { volume } = await openImage(${JSON.stringify(input)});
await writeNifti(${JSON.stringify(output)}, volume);`;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function timed(command: string, args: string[]): number {
  const t = performance.now();
  const r = spawnSync(command, args, { encoding: 'utf8', env: { ...process.env, HCC_PROGRESS: 'none' } });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
  return (performance.now() - t) / 1000;
}

async function main(): Promise<void> {
  const dir = process.argv[2] ?? '/tmp/hcc-bench';
  const runs = Number(process.argv[3] ?? 3);
  const out = mkdtempSync(join(tmpdir(), 'hcc-bench-dicom-'));
  process.stdout.write('| input | ours: DICOM to .nii (median) | dcm2niix (median) | ratio ours/dcm2niix | in-process read (median) |\n|---|---|---|---|---|\n');
  try {
    for (const [kind, label] of [['unc', 'uncompressed'], ['j2k', 'JPEG 2000 lossless']]) {
      const input = join(dir, `dicom_${kind}_${SLICES}`);
      const ours: number[] = [];
      const reference: number[] = [];
      const inProcess: number[] = [];
      for (let r = 0; r < runs; r++) {
        ours.push(timed(process.execPath, ['--input-type=module', '-e', convertScript(input, join(out, 'ours.nii'))]));
        reference.push(timed('dcm2niix', ['-z', 'n', '-f', 'ref', '-o', out, input]));
        const t = performance.now();
        const found = discoverSeries(input);
        await readSeries(chooseSeries(found, input));
        inProcess.push((performance.now() - t) / 1000);
      }
      const [a, b, c] = [median(ours), median(reference), median(inProcess)];
      process.stdout.write(`| ${SLICES}x512x512 ${label} | ${a.toFixed(2)} s | ${b.toFixed(2)} s | ${(a / b).toFixed(2)} | ${c.toFixed(2)} s |\n`);
    }
  } finally {
    rmSync(out, { recursive: true });
  }
}

await main();
