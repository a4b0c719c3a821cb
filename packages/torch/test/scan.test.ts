// The selective-scan custom op against the op-by-op autograd reference (float64, 1e-9), finite differences,
// masked tokens, the softplus threshold branch, partial requires-grad, float32, and shape errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as torch from '../src/index.js';
import { causalConv1d, selectiveScan, selectiveScanReference, tidy, type SelectiveScanOptions, type Tensor } from '../src/index.js';
import { relErr } from './core-helpers.js';

interface Inputs {
  u: Tensor; delta: Tensor; A: Tensor; B: Tensor; C: Tensor; D: Tensor; z: Tensor; deltaBias: Tensor; mask: Tensor;
}
const NAMES = ['u', 'delta', 'A', 'B', 'C', 'D', 'z', 'deltaBias'] as const;

function inputs(b: number, l: number, d: number, n: number, dtype: 'float64' | 'float32' = 'float64', biasShift = 0): Inputs {
  const o = { dtype } as const;
  const leaf = (t: Tensor) => t.detach().requiresGrad_();
  // Every third token of each sequence masked, plus a random few.
  const mask = torch.rand([b, l], o).gt(0.25).logicalAnd(torch.arange(l).remainder(3).ne(1).unsqueeze(0));
  return {
    u: leaf(torch.randn([b, l, d], o)),
    delta: leaf(torch.randn([b, l, d], o).mul(2)),
    // A spans ordinary decays and ones so negative that exp(ΔA) underflows to 0.
    A: leaf(torch.rand([d, n], o).mul(3).exp().neg().mul(torch.tensor(n > 1 ? [1, ...new Array(n - 1).fill(0).map((_, i) => (i === n - 2 ? 400 : 1))] : [1], o))),
    B: leaf(torch.randn([b, l, n], o)),
    C: leaf(torch.randn([b, l, n], o)),
    D: leaf(torch.randn([d], o)),
    z: leaf(torch.randn([b, l, d], o)),
    deltaBias: leaf(torch.randn([d], o).add(biasShift)),
    mask,
  };
}

function run(fn: typeof selectiveScan, x: Inputs, g: Tensor, options: Partial<Record<'D' | 'z' | 'deltaBias' | 'mask', boolean>> = {}): { out: Tensor; grads: (Tensor | null)[] } {
  for (const k of NAMES) x[k].grad = null;
  const opts: SelectiveScanOptions = {};
  if (options.D !== false) opts.D = x.D;
  if (options.z !== false) opts.z = x.z;
  if (options.deltaBias !== false) opts.deltaBias = x.deltaBias;
  if (options.mask !== false) opts.mask = x.mask;
  const out = fn(x.u, x.delta, x.A, x.B, x.C, opts);
  out.mul(g).sum().backward();
  return { out, grads: NAMES.map((k) => x[k].grad) };
}

function compare(b: number, l: number, d: number, n: number, options: Parameters<typeof run>[3] = {}, biasShift = 0): void {
  tidy(() => {
    const x = inputs(b, l, d, n, 'float64', biasShift);
    const g = torch.randn([b, l, d], { dtype: 'float64' });
    const ours = run(selectiveScan, x, g, options);
    const refr = run(selectiveScanReference, x, g, options);
    const label = `(b,l,d,n)=(${b},${l},${d},${n}) ${JSON.stringify(options)}`;
    assert.ok(relErr(ours.out, refr.out) <= 1e-12, `${label}: forward ${relErr(ours.out, refr.out)}`);
    NAMES.forEach((k, i) => {
      const a = ours.grads[i];
      const e = refr.grads[i];
      if (e === null) { assert.equal(a, null, `${label}: d${k} should be absent`); return; }
      assert.ok(a !== null, `${label}: d${k} missing`);
      const err = relErr(a, e);
      assert.ok(err <= 1e-9, `${label}: d${k} relative error ${err}`);
    });
  });
}

test('selective scan: all 8 gradients match the op-by-op autograd reference in float64 (masked tokens included)', () => {
  torch.manualSeed(11);
  compare(1, 1, 1, 1);
  compare(2, 9, 5, 4);
  compare(2, 37, 64, 8);
  compare(1, 13, 40, 3); // two channel blocks, the second partial
});

test('selective scan: softplus threshold branch (delta + bias > 20), no mask, no D/z/bias', () => {
  torch.manualSeed(12);
  compare(2, 11, 7, 3, {}, 21);
  compare(2, 11, 7, 3, { mask: false });
  compare(2, 11, 7, 3, { D: false, z: false, deltaBias: false, mask: false });
});

test('selective scan: a masked token neither writes to nor decays the state', () => {
  tidy(() => {
    torch.manualSeed(13);
    const x = inputs(1, 6, 4, 2);
    const mask = torch.tensor([[true, true, false, false, true, true]]);
    const y = selectiveScan(x.u, x.delta, x.A, x.B, x.C, { deltaBias: x.deltaBias, mask });
    // Without D and z, y_t = C_t·h_t, and h stays h_1 over the masked steps 2-3: y_2 = C_2·h_1 and y_3 = C_3·h_1.
    for (const t of [2, 3]) {
      const probe = selectiveScan(x.u.narrow(1, 0, 2), x.delta.narrow(1, 0, 2), x.A, x.B.narrow(1, 0, 2),
        x.C.narrow(1, t - 1, 2), { deltaBias: x.deltaBias });
      assert.ok(relErr(y.narrow(1, t, 1), probe.narrow(1, 1, 1)) < 1e-12, `y_${t} uses the state of the last valid token`);
    }
    // Changing inputs at masked tokens changes nothing after them (u and delta are ignored there).
    const u2 = x.u.clone();
    u2.narrow(1, 2, 2).fill_(100);
    const y2 = selectiveScan(u2, x.delta, x.A, x.B, x.C, { deltaBias: x.deltaBias, mask });
    assert.ok(relErr(y2.narrow(1, 4, 2), y.narrow(1, 4, 2)) < 1e-15);
    // ... and the gradient of delta there is exactly 0.
    y.sum().backward();
    const gd = x.delta.grad!.narrow(1, 2, 2);
    assert.equal(gd.abs().max().item(), 0);
  });
});

test('selective scan: central finite differences agree on random coordinates (float64)', () => {
  tidy(() => {
    torch.manualSeed(14);
    const x = inputs(2, 7, 6, 3);
    const g = torch.randn([2, 7, 6], { dtype: 'float64' });
    const { grads } = run(selectiveScan, x, g);
    const loss = () => torch.noGrad(() => tidy(() => selectiveScan(x.u, x.delta, x.A, x.B, x.C,
      { D: x.D, z: x.z, deltaBias: x.deltaBias, mask: x.mask }).mul(g).sum().item()));
    const eps = 1e-6;
    let checked = 0;
    NAMES.forEach((k, i) => {
      const flat = x[k].detach().reshape([-1]);
      const analytic = grads[i]!.reshape([-1]);
      for (let r = 0; r < 3; r++) {
        const j = torch.randint(0, flat.numel(), [1]).item();
        const v = flat.select(0, j).item();
        flat.select(0, j).fill_(v + eps);
        const up = loss();
        flat.select(0, j).fill_(v - eps);
        const down = loss();
        flat.select(0, j).fill_(v);
        const numeric = (up - down) / (2 * eps);
        const a = analytic.select(0, j).item();
        assert.ok(Math.abs(numeric - a) <= 1e-6 * (1 + Math.abs(a)), `d${k}[${j}]: analytic ${a}, numeric ${numeric}`);
        checked++;
      }
    });
    assert.equal(checked, 24);
  });
});

test('selective scan: only some inputs requiring grad, and float32 within 1e-4 of float64', () => {
  tidy(() => {
    torch.manualSeed(15);
    const x = inputs(2, 10, 33, 4);
    const frozen = [x.A, x.D, x.deltaBias].map((t) => t.detach());
    const out = selectiveScan(x.u, x.delta, frozen[0], x.B, x.C, { D: frozen[1], z: x.z, deltaBias: frozen[2], mask: x.mask });
    out.sum().backward();
    assert.ok(x.u.grad !== null && x.C.grad !== null);
    const f32 = selectiveScan(x.u.float(), x.delta.float(), x.A.float(), x.B.float(), x.C.float(),
      { D: x.D.float(), z: x.z.float(), deltaBias: x.deltaBias.float(), mask: x.mask });
    assert.ok(relErr(f32.double(), out) < 1e-4, `float32 vs float64 ${relErr(f32.double(), out)}`);
  });
});

test('selective scan: wrong shapes and dtypes are JS errors naming the argument', () => {
  tidy(() => {
    const x = inputs(2, 5, 4, 3);
    assert.throws(() => selectiveScan(x.u, x.delta, x.A, x.B.narrow(1, 0, 4), x.C), /selectiveScan: B must have shape \[2, 5, 3\], got \[2, 4, 3\]/);
    assert.throws(() => selectiveScan(x.u, x.delta.float(), x.A, x.B, x.C), /delta has dtype float32 but u has float64/);
    assert.throws(() => selectiveScan(x.u, x.delta, x.A, x.B, x.C, { mask: torch.ones([2, 4]) }), /mask must have shape \[2, 5\]/);
    assert.throws(() => selectiveScan(x.u.long(), x.delta, x.A, x.B, x.C), /u must be float32 or float64/);
  });
});

test('causalConv1d equals a left-padded grouped conv1d (+ SiLU), forward and all gradients, float64', () => {
  tidy(() => {
    const [b, l, d, k] = [2, 11, 5, 4];
    for (const [withBias, silu] of [[true, true], [false, true], [true, false]] as const) {
      const xz = torch.randn([b, l, 2 * d], { dtype: 'float64' }).requiresGrad_();
      const w = torch.randn([d, 1, k], { dtype: 'float64' }).requiresGrad_();
      const bias = torch.randn([d], { dtype: 'float64' }).requiresGrad_();
      const g = torch.randn([b, l, d], { dtype: 'float64' });
      const x = xz.chunk(2, -1)[0]!; // a strided view, as in the Mamba block
      const grads = (out: Tensor) => {
        for (const t of [xz, w, bias]) t.grad = null;
        out.mul(g).sum().backward();
        return [xz.grad!, w.grad!, withBias ? bias.grad! : null];
      };
      const ours = causalConv1d(x, w, withBias ? bias : null, { activation: silu ? 'silu' : null });
      const oursGrads = grads(ours);
      let ref = torch.F.conv1d(x.transpose(1, 2), w, withBias ? bias : null, 1, k - 1, 1, d).narrow(2, 0, l).transpose(1, 2);
      if (silu) ref = torch.F.silu(ref);
      const refGrads = grads(ref);
      const label = `bias ${withBias} silu ${silu}`;
      assert.ok(relErr(ours, ref) <= 1e-12, `${label}: forward ${relErr(ours, ref)}`);
      oursGrads.forEach((a, i) => {
        if (a === null) { assert.equal(refGrads[i], null); return; }
        assert.ok(relErr(a, refGrads[i]!) <= 1e-12, `${label}: gradient ${i} ${relErr(a, refGrads[i]!)}`);
      });
    }
    assert.throws(() => causalConv1d(torch.randn([1, 4, 3]), torch.randn([2, 4])), /causalConv1d: weight must have shape \[3, 4\], got \[2, 4\]/);
  });
});
