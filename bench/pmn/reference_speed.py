#!/usr/bin/python3
"""python3-torch reference for bench/pmn/speed.ts: the same PMN-S architecture, shapes, batch, losses and AdamW
step, timed per stage so that each number can be set against ours (BENCHMARKS.md, "Prototype Mamba Net").

    nice /usr/bin/python3 bench/pmn/reference_speed.py [--config default|xs] [--batch 8] [--steps 5] [--threads 1]
                                                        [--scan standin|loop] [--profile]

Debian's python3-torch 1.13 (the same libtorch build as ours) is a dev tool; nothing here runs in hcc.
Python has no CPU selective-scan kernel, so by default the scan is a stand-in with the same inputs and output
(a few elementwise ops, differentiable in every input): the "dense" step is then everything but the scan, as in
pmn-design.md §0, and speed.ts --scan standin times the same thing on our side. `--scan loop` runs the real
recurrence one token at a time (slow; for the total only). Times are wall (perf_counter) and CPU
(process_time, all threads) in ms, medians over --steps after one warm-up step.
"""
import argparse
import json
import math
import os
import statistics
import time

# As @hcc/torch does (packages/torch/src/native.ts): OpenBLAS's own busy-waiting thread pool off, unless set.
os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

CONFIGS = {
    'default': dict(input_size=(64, 64, 32), depth=4),
    'xs': dict(input_size=(48, 48, 24), depth=2),
}
IN_CH, STEM, D_MODEL, D_STATE, EXPAND, D_CONV, PER_CLASS = 3, (16, 32), 64, 8, 2, 4, 5
TOKEN_STRIDE = (8, 8, 4)  # x, y, z


# Scan orders as permutations of the token grid's axes (z, y, x), slowest first: x-, y-, z-fastest (model.ts).
ORDER_AXES = [(0, 1, 2), (0, 2, 1), (1, 2, 0)]


def to_order(x, order):
    grid, axes = order
    b, l, c = x.shape
    return x.reshape(b, *grid, c).permute(0, *(a + 1 for a in axes), 4).reshape(b, l, c)


def from_order(y, order):
    grid, axes = order
    b, l, c = y.shape
    back = [axes.index(a) for a in range(3)]
    return y.reshape(b, *(grid[a] for a in axes), c).permute(0, *(i + 1 for i in back), 4).reshape(b, l, c)


def scan_standin(u, delta, A, B, C, D, z, bias):
    dt = F.softplus(delta + bias)
    y = u * dt * A.sum(-1) + (B.sum(-1, keepdim=True) + C.sum(-1, keepdim=True)) * u + D * u
    return y * F.silu(z)


def scan_loop(u, delta, A, B, C, D, z, bias):
    dt = F.softplus(delta + bias)
    b, l, d = u.shape
    h = u.new_zeros(b, d, A.shape[1])
    ys = []
    for t in range(l):
        h = torch.exp(dt[:, t, :, None] * A) * h + (dt[:, t] * u[:, t])[:, :, None] * B[:, t, None, :]
        ys.append((h * C[:, t, None, :]).sum(-1))
    return (torch.stack(ys, 1) + u * D) * F.silu(z)


class Timer:
    """Accumulates wall and CPU ms per label for one step."""

    def __init__(self):
        self.wall, self.cpu = {}, {}

    def __call__(self, label, fn, *args):
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn(*args)
        self.wall[label] = self.wall.get(label, 0) + (time.perf_counter() - w0) * 1e3
        self.cpu[label] = self.cpu.get(label, 0) + (time.process_time() - c0) * 1e3
        return out


class BiMamba(nn.Module):
    def __init__(self, n_layer):
        super().__init__()
        self.d_inner = EXPAND * D_MODEL
        self.dt_rank = math.ceil(D_MODEL / 16)
        self.in_proj = nn.Linear(D_MODEL, 2 * self.d_inner, bias=False)
        for s in ('', '_b'):
            setattr(self, 'conv1d' + s, nn.Conv1d(self.d_inner, self.d_inner, D_CONV, groups=self.d_inner, padding=D_CONV - 1))
            setattr(self, 'x_proj' + s, nn.Linear(self.d_inner, self.dt_rank + 2 * D_STATE, bias=False))
            setattr(self, 'dt_proj' + s, nn.Linear(self.dt_rank, self.d_inner))
            a = torch.arange(1, D_STATE + 1, dtype=torch.float32).log().repeat(self.d_inner, 1)
            self.register_parameter('A_log' if s == '' else 'A_b_log', nn.Parameter(a))
            self.register_parameter('D' if s == '' else 'D_b', nn.Parameter(torch.ones(self.d_inner)))
        self.out_proj = nn.Linear(self.d_inner, D_MODEL, bias=False)
        self.scan = scan_standin
        self.timer = None

    def t(self, label, fn, *args):
        return self.timer(label, fn, *args) if self.timer else fn(*args)

    def direction(self, x, z, s):
        conv = getattr(self, 'conv1d' + s)
        l = x.shape[1]

        def causal_conv(x):
            padded = F.pad(x, (0, 0, D_CONV - 1, 0))
            acc = conv.bias.reshape(1, 1, -1).expand(x.shape[0], l, -1)
            for i in range(D_CONV):
                acc = acc + padded.narrow(1, i, l) * conv.weight[:, 0, i].reshape(1, 1, -1)
            return F.silu(acc)

        xc = self.t('causal conv', causal_conv, x)

        def proj(xc):
            dt, B, C = getattr(self, 'x_proj' + s)(xc).split([self.dt_rank, D_STATE, D_STATE], -1)
            dt_proj = getattr(self, 'dt_proj' + s)
            return F.linear(dt, dt_proj.weight), B.contiguous(), C.contiguous(), dt_proj.bias

        delta, B, C, bias = self.t('x_proj, dt_proj', proj, xc)
        A = -getattr(self, 'A_log' if s == '' else 'A_b_log').exp()
        return self.t('scan', self.scan, xc, delta, A, B, C, getattr(self, 'D' if s == '' else 'D_b'), z, bias)

    def forward(self, x, order):
        xz = self.t('in_proj', lambda x: self.in_proj(to_order(x, order)), x)
        xi, z = xz.chunk(2, -1)
        xi_r, z_r = self.t('permute', lambda: xz.flip(1).chunk(2, -1))
        y_f = self.direction(xi, z, '')
        y_r = self.direction(xi_r, z_r, '_b')
        y = self.t('permute', lambda: y_f + y_r.flip(1))
        return self.t('out_proj', lambda y: from_order(self.out_proj(y * 0.5), order), y)


class Block(nn.Module):
    def __init__(self, n_layer):
        super().__init__()
        self.norm = nn.LayerNorm(D_MODEL)
        self.mixer = BiMamba(n_layer)

    def forward(self, x, order):
        return x + self.mixer(self.norm(x), order)


class PMN(nn.Module):
    def __init__(self, input_size, depth):
        super().__init__()
        c1, c2 = STEM
        self.input_size = input_size
        self.stem = nn.Sequential(
            nn.Conv3d(IN_CH, c1, 3, stride=(1, 2, 2), padding=1), nn.GroupNorm(c1 // 4, c1), nn.GELU(),
            nn.Conv3d(c1, c2, 3, stride=2, padding=1), nn.GroupNorm(c2 // 4, c2), nn.GELU())
        self.patch_embed = nn.Conv3d(c2, D_MODEL, 2, stride=2)
        self.layers = nn.ModuleList([Block(depth) for _ in range(depth)])
        self.norm_f = nn.LayerNorm(D_MODEL)
        self.add_on = nn.Sequential(nn.Linear(D_MODEL, D_MODEL), nn.ReLU(), nn.Linear(D_MODEL, D_MODEL))
        k = 2 * PER_CLASS
        self.prototype_vectors = nn.Parameter(torch.rand(k, D_MODEL))
        self.last_layer = nn.Linear(k, 2, bias=False)
        self.cox_head = nn.Linear(k, 1, bias=False)
        self.prototype_class = [0 if j < PER_CLASS else 1 for j in range(k)]
        with torch.no_grad():
            self.last_layer.weight.copy_(torch.tensor([[1.0 if pc == c else -0.5 for pc in self.prototype_class] for c in (0, 1)]))
            self.cox_head.weight.zero_()
        nx, ny, nz = (s // t for s, t in zip(input_size, TOKEN_STRIDE))
        self.orders = [((nz, ny, nx), axes) for axes in ORDER_AXES]
        self.timer = None

    def t(self, label, fn, *args):
        return self.timer(label, fn, *args) if self.timer else fn(*args)

    def set_timer(self, timer):
        self.timer = timer
        for layer in self.layers:
            layer.mixer.timer = timer

    def token_mask(self, x):
        sx, sy, sz = TOKEN_STRIDE
        m = F.max_pool3d(x[:, 2:3], (sz, sy, sx), (sz, sy, sx))
        m = F.max_pool3d(m, 3, 1, 1).flatten(1).gt(0.5).float()
        return torch.where(m.sum(1, keepdim=True).eq(0), torch.ones_like(m), m)

    def forward(self, x):
        h = self.t('stem conv1+GN+GELU', self.stem[0:3], x)
        h = self.t('stem conv2+GN+GELU', self.stem[3:6], h)
        h = self.t('patch embed', lambda h: self.patch_embed(h).flatten(2).transpose(1, 2), h)
        for i, layer in enumerate(self.layers):
            h = self.t('layer norm', lambda h: (h, layer.norm(h)), h)
            h = h[0] + layer.mixer(h[1], self.orders[i % 3])

        def head(h):
            f = torch.sigmoid(self.add_on(self.norm_f(h)))
            p = self.prototype_vectors
            raw = (f.square().sum(-1, keepdim=True) - 2 * f.matmul(p.t()) + p.square().sum(-1).reshape(1, 1, -1)).clamp_min(0)
            m = self.token_mask(x).unsqueeze(-1)
            d, _ = (raw * m + (1 - m) * D_MODEL).min(1)
            sim = ((d + 1) / (d + 1e-4)).log()
            return self.last_layer(sim), self.cox_head(sim).squeeze(-1), d

        return self.t('norm_f, add-on, prototypes, heads', head, h)


def losses(logits, risk, min_dist, labels, times, events, prototype_class, max_dist):
    y = torch.tensor(labels)
    ce = F.cross_entropy(logits, y, weight=torch.tensor([1.0, 1.0]))
    own = torch.tensor([[1.0 if c == yy else 0.0 for c in prototype_class] for yy in labels])
    w = torch.ones(len(labels))
    close = max_dist - min_dist
    nearest = lambda mask: max_dist - (close * mask).amax(1)
    cluster = (nearest(own) * w).sum() / w.sum()
    separation = (nearest(1 - own) * w).sum() / w.sum()
    n = len(times)
    order = sorted(range(n), key=lambda i: (-times[i], i))
    ev = torch.tensor([float(events[i]) for i in order])
    last = [0] * n
    for k in range(n - 1, -1, -1):
        last[k] = last[k + 1] if k + 1 < n and times[order[k + 1]] == times[order[k]] else k
    s = risk.index_select(0, torch.tensor(order))
    cox = -((s - s.logcumsumexp(0).index_select(0, torch.tensor(last))) * ev).sum() / ev.sum()
    return ce + 0.8 * cluster - 0.08 * separation + 0.5 * cox


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--config', default='default', choices=CONFIGS)
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--steps', type=int, default=5)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--scan', default='standin', choices=('standin', 'loop'))
    ap.add_argument('--profile', action='store_true', help='also print the 40 ops with the most self time in one step (autograd profiler)')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    cfg = CONFIGS[a.config]
    net = PMN(cfg['input_size'], cfg['depth'])
    for layer in net.layers:
        layer.mixer.scan = scan_loop if a.scan == 'loop' else scan_standin
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
    nx, ny, nz = cfg['input_size']
    b = a.batch

    def batch_input(n):
        x = torch.randn(n, IN_CH, nz, ny, nx)
        x[:, 2] = 0
        x[:, 2, nz // 4:nz // 4 + nz // 2, ny // 4:ny // 4 + ny // 2, nx // 4:nx // 4 + nx // 2] = 1
        return x

    labels = [i % 2 for i in range(b)]
    times = [1 + i % 5 for i in range(b)]
    events = [0 if i % 3 == 2 else 1 for i in range(b)]

    def step(timer):
        net.set_timer(timer)
        x = timer('input', batch_input, b)
        timer('zero_grad', opt.zero_grad)
        logits, risk, d = net(x)
        loss = timer('losses', losses, logits, risk, d, labels, times, events, net.prototype_class, D_MODEL)
        timer('backward', loss.backward)
        timer('optimizer step', opt.step)
        return timer

    runs = []
    for s in range(a.steps + 1):
        w0, c0, r0 = time.perf_counter(), time.process_time(), os.times()
        t = step(Timer())
        if s > 0:
            runs.append((t, (time.perf_counter() - w0) * 1e3, (time.process_time() - c0) * 1e3, (os.times().system - r0.system) * 1e3))
    med = lambda v: statistics.median(v)
    labels_seen = list(runs[0][0].wall)
    forward_labels = [k for k in labels_seen if k not in ('input', 'zero_grad', 'losses', 'backward', 'optimizer step')]
    result = {
        'config': a.config, 'params': sum(p.numel() for p in net.parameters()), 'batch': b, 'threads': torch.get_num_threads(),
        'scan': a.scan, 'torch': torch.__version__, 'loadavg': os.getloadavg()[0],
        'stepMs': med([r[1] for r in runs]), 'stepCpuMs': med([r[2] for r in runs]), 'stepSystemCpuMs': med([r[3] for r in runs]),
        'perSampleMs': med([r[1] for r in runs]) / b, 'perSampleCpuMs': med([r[2] for r in runs]) / b,
        'forwardCpuMs': med([sum(r[0].cpu[k] for k in forward_labels) for r in runs]),
        'parts': {k: {'ms': round(med([r[0].wall[k] for r in runs]), 2), 'cpuMs': round(med([r[0].cpu[k] for r in runs]), 2)} for k in labels_seen},
    }
    net.eval()
    net.set_timer(None)
    infer = []
    with torch.no_grad():
        for s in range(a.steps + 1):
            w0 = time.perf_counter()
            net(batch_input(1))[0].sum().item()
            if s > 0:
                infer.append((time.perf_counter() - w0) * 1e3)
    result['inferenceMsPerCase'] = med(infer)
    print(json.dumps(result, indent=1))
    if a.profile:
        net.train()
        with torch.autograd.profiler.profile(use_kineto=False) as prof:
            step(Timer())
        ops = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
        print(json.dumps([{'name': e.key, 'count': e.count, 'selfMs': round(e.self_cpu_time_total / 1e3, 2),
                           'totalMs': round(e.cpu_time_total / 1e3, 2)} for e in ops[:40]]))


if __name__ == '__main__':
    main()
