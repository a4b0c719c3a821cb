#!/usr/bin/python3
"""Makes the large benchmark inputs from the real TotalSegmentator sample CT (shared data).

Rerun: /usr/bin/python3 bench/imaging/make_big_ct.py /tmp/hcc-bench   (python3-nibabel, python3-scipy)
Writes big_ct.nii (488 x 404 x 224 int16, 0.75 x 0.75 x 1.5 mm, 88 MB) and big_ct.nii.gz (nibabel's gzip
level). The 122 x 101 x 30 CT is upsampled with linear interpolation; a little deterministic noise keeps the
gzip ratio close to a real CT's (a smooth upsampled image compresses unrealistically well).
"""
import os
import sys

import nibabel as nib
import numpy as np
from scipy import ndimage

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get('HCC_SHARED', os.path.join(HERE, '..', '..', '..', 'shared'))
out_dir = sys.argv[1] if len(sys.argv) > 1 else '/tmp/hcc-bench'
os.makedirs(out_dir, exist_ok=True)

src = nib.load(os.path.join(SHARED, 'data', 'nifti', 'totalseg', 'example_ct_sm.nii.gz'))
data = np.asanyarray(src.dataobj).astype(np.float32)
shape = (488, 404, 224)
big = ndimage.zoom(data, np.array(shape) / np.array(data.shape), order=1, mode='nearest', grid_mode=True)
big += np.random.default_rng(0).normal(0, 8, size=big.shape).astype(np.float32)
big = np.clip(np.round(big), -1024, 3071).astype(np.int16)
affine = np.diag([0.75, 0.75, 1.5, 1.0])
affine[:3, 3] = src.affine[:3, 3]
img = nib.Nifti1Image(big, affine)
img.header.set_qform(affine, code=1)
img.header.set_sform(affine, code=1)
nib.save(img, os.path.join(out_dir, 'big_ct.nii'))
nib.save(img, os.path.join(out_dir, 'big_ct.nii.gz'))
for name in ('big_ct.nii', 'big_ct.nii.gz'):
    print(name, os.path.getsize(os.path.join(out_dir, name)) / 1e6, 'MB')
