#!/usr/bin/python3
"""nibabel / scipy timings on the same inputs as bench/imaging/imaging.ts, which runs this script itself.

Usage: /usr/bin/python3 bench/imaging/reference.py <dir with big_ct.nii(.gz)> <repeats> <task>
Prints the median seconds of that task. The TypeScript benchmark calls it once per task, right after timing its
own version, so both see the same machine load.
"""
import json
import os
import statistics
import sys
import time

import nibabel as nib
import numpy as np
from scipy import ndimage

d = sys.argv[1]
repeats = int(sys.argv[2])
task = sys.argv[3]


def median_time(fn, n=repeats):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


gz = os.path.join(d, 'big_ct.nii.gz')
raw = os.path.join(d, 'big_ct.nii')
img = nib.load(raw, mmap=False)
data = np.asanyarray(img.dataobj)
out = os.path.join(d, 'ref_written.nii.gz')
target = (244, 202, 224)
zoom = np.array(target) / np.array(data.shape)
mask = data > 100
tasks = {
    # mmap=False: nibabel would otherwise map a .nii lazily and read nothing.
    'read_gz': lambda: np.asanyarray(nib.load(gz, mmap=False).dataobj),
    'read_nii': lambda: np.asanyarray(nib.load(raw, mmap=False).dataobj),
    'write_gz': lambda: nib.save(nib.Nifti1Image(data, img.affine), out),
    'resample_linear': lambda: ndimage.zoom(data, zoom, order=1, mode='nearest', grid_mode=True, output=np.float32),
    'resample_cubic': lambda: ndimage.zoom(data, zoom, order=3, mode='nearest', grid_mode=True, output=np.float32),
    'components_26': lambda: ndimage.label(mask, structure=np.ones((3, 3, 3))),
    'edt_anisotropic': lambda: ndimage.distance_transform_edt(~mask, sampling=(1.5, 0.75, 0.75)),
}
print(median_time(tasks[task]))
if os.path.exists(out):
    os.remove(out)
