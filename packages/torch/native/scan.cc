// The Mamba (S6) selective scan as a custom autograd Function with a hand-written backward (CPU).
// Equations: /work/shared/research/pmn-design.md §1.1 and §1.3, in token-major layout:
//   u, delta, z: [B, L, D]   A: [D, N]   Bm, Cm: [B, L, N]   Dskip, deltaBias: [D]   mask: [B, L] (nonzero = valid)
//   Δ = softplus(delta + deltaBias) (threshold 20, as the CUDA kernel), then Δ = 0 where mask == 0, so a masked
//   token neither writes to nor decays the state (upstream mamba#368)
//   h_t = exp(Δ_t A) ⊙ h_{t-1} + Δ_t Bm_t u_t;  y_t = Σ_n Cm_{t,n} h_{t,n} + Dskip u_t;  out = y ⊙ silu(z)
// Vectorised over channels: each task owns one (batch, block of kBlock channels) and runs t -> n -> channel loops
// over contiguous channel rows; reductions over channels (dB, dC) and batches (dA, dD, dbias) go through per-task
// partial buffers, so no atomics are needed.
#include "common.h"

#include <ATen/Dispatch.h>
#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace hcc {

namespace {

constexpr int64_t kBlock = 32;

struct Dims {
  int64_t B, L, D, N, blocks;
};

// exp without a libm call, so that the channel loops vectorise (the libm call made them scalar: ~20 cycles per
// element). 2^k · p(r) with k = round(x·log2 e) by the 1.5·2^m magic-number trick, r = x − k·ln 2 (Cody-Waite),
// p a Taylor polynomial: degree 12 for double (relative error < 3e-16), 7 for float (< 2e-7). The forward and
// backward passes both use it, so the recurrence and its derivative stay consistent.
__attribute__((always_inline)) inline double FastExp(double x) {
  x = x < -708.0 ? -708.0 : x;  // (the build's -fno-trapping-math lets these selects vectorise)
  x = x > 709.0 ? 709.0 : x;
  const double magic = 6755399441055744.0;  // 1.5 * 2^52
  const double t = x * 1.4426950408889634 + magic;
  const double k = t - magic;
  const double r = (x - k * 0.6931471803691238) - k * 1.9082149292705877e-10;
  double p = 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  int64_t ti, ki;
  std::memcpy(&ti, &t, sizeof ti);
  const int64_t magicBits = 0x4338000000000000LL;
  ki = (ti - magicBits + 1023) << 52;
  double scale;
  std::memcpy(&scale, &ki, sizeof scale);
  return p * scale;
}

__attribute__((always_inline)) inline float FastExp(float x) {
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  const float magic = 12582912.0f;  // 1.5 * 2^23
  const float t = x * 1.44269504f + magic;
  const float k = t - magic;
  const float r = (x - k * 0.693145752f) - k * 1.42860677e-6f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  int32_t ti, ki;
  std::memcpy(&ti, &t, sizeof ti);
  const int32_t magicBits = 0x4B400000;
  ki = (ti - magicBits + 127) << 23;
  float scale;
  std::memcpy(&scale, &ki, sizeof scale);
  return p * scale;
}

template <typename T>
inline T Softplus(T x) {
  return x <= T(20) ? std::log1p(std::exp(x)) : x;
}

template <typename T>
inline T Sigmoid(T x) {
  return T(1) / (T(1) + std::exp(-x));
}

// Forward. Writes the effective Δ ([B,L,D]), all states H ([B,L,N,D]), y and out.
template <typename T>
void ScanForward(const Dims& s, const T* u, const T* delta, const T* At /*[N,D]*/, const T* Bm, const T* Cm, const T* Dskip,
                 const T* z, const T* bias, const uint8_t* mask, bool softplus, T* deltaEff, T* H, T* y, T* out) {
  at::parallel_for(0, s.B * s.blocks, 1, [&](int64_t begin, int64_t end) {
    std::vector<T> h(s.N * kBlock), dt(kBlock);
    for (int64_t task = begin; task < end; task++) {
      const int64_t b = task / s.blocks, d0 = (task % s.blocks) * kBlock, nd = std::min(kBlock, s.D - d0);
      std::fill(h.begin(), h.end(), T(0));
      for (int64_t t = 0; t < s.L; t++) {
        const int64_t row = (b * s.L + t) * s.D + d0;
        const bool valid = mask == nullptr || mask[b * s.L + t] != 0;
        T* yRow = y + row;
        for (int64_t j = 0; j < nd; j++) {
          T x = delta[row + j] + (bias ? bias[d0 + j] : T(0));
          T v = softplus ? Softplus(x) : x;
          dt[j] = valid ? v : T(0);
          deltaEff[row + j] = dt[j];
          yRow[j] = Dskip ? Dskip[d0 + j] * u[row + j] : T(0);
        }
        const T* bRow = Bm + (b * s.L + t) * s.N;
        const T* cRow = Cm + (b * s.L + t) * s.N;
        T* hOut = H + ((b * s.L + t) * s.N) * s.D + d0;
        for (int64_t n = 0; n < s.N; n++) {
          const T bn = bRow[n], cn = cRow[n];
          const T* __restrict__ a = At + n * s.D + d0;
          const T* __restrict__ ur = u + row;
          const T* __restrict__ dtv = dt.data();
          T* __restrict__ hn = h.data() + n * kBlock;
          T* __restrict__ hs = hOut + n * s.D;
          T* __restrict__ yv = yRow;
#pragma omp simd
          for (int64_t j = 0; j < nd; j++) {
            const T hj = FastExp(dtv[j] * a[j]) * hn[j] + dtv[j] * bn * ur[j];
            hn[j] = hj;
            hs[j] = hj;
            yv[j] += cn * hj;
          }
        }
        for (int64_t j = 0; j < nd; j++) {
          out[row + j] = z ? yRow[j] * z[row + j] * Sigmoid(z[row + j]) : yRow[j];
        }
      }
    }
  });
}

// Backward. g = dL/dout. Per-task partials: dBp/dCp [blocks, B, L, N], dAp [B, N, D], dDp/dBiasp [B, D].
template <typename T>
void ScanBackward(const Dims& s, const T* g, const T* u, const T* delta, const T* At, const T* Bm, const T* Cm, const T* Dskip,
                  const T* z, const T* bias, const uint8_t* mask, bool softplus, const T* deltaEff, const T* H, const T* y,
                  T* du, T* ddelta, T* dAp, T* dBp, T* dCp, T* dDp, T* dz, T* dBiasp) {
  at::parallel_for(0, s.B * s.blocks, 1, [&](int64_t begin, int64_t end) {
    std::vector<T> G(s.N * kBlock), gy(kBlock), dDelta(kBlock), zeros(kBlock, T(0));
    for (int64_t task = begin; task < end; task++) {
      const int64_t b = task / s.blocks, blk = task % s.blocks, d0 = blk * kBlock, nd = std::min(kBlock, s.D - d0);
      std::fill(G.begin(), G.end(), T(0));
      T* dA = dAp + b * s.N * s.D;
      for (int64_t t = s.L - 1; t >= 0; t--) {
        const int64_t row = (b * s.L + t) * s.D + d0;
        const bool valid = mask == nullptr || mask[b * s.L + t] != 0;
        for (int64_t j = 0; j < nd; j++) {
          const int64_t i = row + j;
          if (z) {
            const T sz = Sigmoid(z[i]);
            gy[j] = g[i] * z[i] * sz;
            dz[i] = g[i] * y[i] * sz * (T(1) + z[i] * (T(1) - sz));
          } else {
            gy[j] = g[i];
          }
          if (Dskip) dDp[b * s.D + d0 + j] += gy[j] * u[i];
          du[i] = Dskip ? gy[j] * Dskip[d0 + j] : T(0);
          dDelta[j] = T(0);
        }
        const T* bRow = Bm + (b * s.L + t) * s.N;
        const T* cRow = Cm + (b * s.L + t) * s.N;
        T* dbRow = dBp + ((blk * s.B + b) * s.L + t) * s.N;
        T* dcRow = dCp + ((blk * s.B + b) * s.L + t) * s.N;
        const T* dt = deltaEff + row;
        const T* ur = u + row;
        for (int64_t n = 0; n < s.N; n++) {
          const T bn = bRow[n], cn = cRow[n];
          const T* __restrict__ a = At + n * s.D + d0;
          const T* __restrict__ hCur = H + ((b * s.L + t) * s.N + n) * s.D + d0;
          // At t = 0 the previous state is 0: point at a zero row instead of branching inside the loop.
          const T* __restrict__ hPrev = t > 0 ? H + ((b * s.L + t - 1) * s.N + n) * s.D + d0 : zeros.data();
          const T* __restrict__ dtv = dt;
          const T* __restrict__ uv = ur;
          const T* __restrict__ gyv = gy.data();
          T* __restrict__ Gn = G.data() + n * kBlock;
          T* __restrict__ dAn = dA + n * s.D + d0;
          T* __restrict__ duv = du + row;
          T* __restrict__ dDv = dDelta.data();
          T dbAcc = 0, dcAcc = 0;
#pragma omp simd reduction(+ : dbAcc, dcAcc)
          for (int64_t j = 0; j < nd; j++) {
            const T Gt = Gn[j] + gyv[j] * cn;  // dL/dh_t
            const T decay = FastExp(dtv[j] * a[j]);
            const T carried = decay * hPrev[j];  // exp(ΔA) h_{t-1}
            dDv[j] += Gt * (a[j] * carried + bn * uv[j]);
            dAn[j] += Gt * dtv[j] * carried;
            dbAcc += Gt * dtv[j] * uv[j];
            duv[j] += Gt * dtv[j] * bn;
            dcAcc += gyv[j] * hCur[j];
            Gn[j] = Gt * decay;
          }
          dbRow[n] += dbAcc;
          dcRow[n] += dcAcc;
        }
        for (int64_t j = 0; j < nd; j++) {
          const int64_t i = row + j;
          T dd = T(0);
          if (valid) {
            const T x = delta[i] + (bias ? bias[d0 + j] : T(0));
            dd = softplus ? (x <= T(20) ? dDelta[j] * Sigmoid(x) : dDelta[j]) : dDelta[j];
          }
          ddelta[i] = dd;
          if (bias) dBiasp[b * s.D + d0 + j] += dd;
        }
      }
    }
  });
}

template <typename T>
const T* Ptr(const at::Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

struct SelectiveScanFn : public torch::autograd::Function<SelectiveScanFn> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& u, const at::Tensor& delta,
                            const at::Tensor& A, const at::Tensor& Bm, const at::Tensor& Cm, const c10::optional<at::Tensor>& Dskip,
                            const c10::optional<at::Tensor>& z, const c10::optional<at::Tensor>& bias,
                            const c10::optional<at::Tensor>& mask, bool softplus) {
    const Dims s{u.size(0), u.size(1), u.size(2), A.size(1), (u.size(2) + kBlock - 1) / kBlock};
    at::Tensor uc = u.contiguous(), dc = delta.contiguous(), At = A.t().contiguous(), Bc = Bm.contiguous(), Cc = Cm.contiguous();
    at::Tensor Dc = Dskip ? Dskip->contiguous() : at::Tensor();
    at::Tensor zc = z ? z->contiguous() : at::Tensor();
    at::Tensor bc = bias ? bias->contiguous() : at::Tensor();
    at::Tensor mc = mask ? mask->ne(0).to(at::kByte).contiguous() : at::Tensor();
    at::Tensor deltaEff = at::empty_like(uc), H = at::empty({s.B, s.L, s.N, s.D}, uc.options());
    at::Tensor y = at::empty_like(uc), out = at::empty_like(uc);
    AT_DISPATCH_FLOATING_TYPES(uc.scalar_type(), "selectiveScan", [&] {
      ScanForward<scalar_t>(s, Ptr<scalar_t>(uc), Ptr<scalar_t>(dc), Ptr<scalar_t>(At), Ptr<scalar_t>(Bc), Ptr<scalar_t>(Cc),
                            Ptr<scalar_t>(Dc), Ptr<scalar_t>(zc), Ptr<scalar_t>(bc), mc.defined() ? mc.data_ptr<uint8_t>() : nullptr,
                            softplus, deltaEff.data_ptr<scalar_t>(), H.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(),
                            out.data_ptr<scalar_t>());
    });
    ctx->save_for_backward({uc, dc, At, Bc, Cc, Dc, zc, bc, mc, deltaEff, H, y});
    ctx->saved_data["softplus"] = softplus;
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    auto v = ctx->get_saved_variables();
    const at::Tensor &u = v[0], &delta = v[1], &At = v[2], &Bm = v[3], &Cm = v[4], &Dskip = v[5], &z = v[6], &bias = v[7],
                     &mask = v[8], &deltaEff = v[9], &H = v[10], &y = v[11];
    const bool softplus = ctx->saved_data["softplus"].toBool();
    const Dims s{u.size(0), u.size(1), u.size(2), At.size(0), (u.size(2) + kBlock - 1) / kBlock};
    at::Tensor g = grads[0].contiguous();
    at::Tensor du = at::empty_like(u), ddelta = at::empty_like(u);
    at::Tensor dAp = at::zeros({s.B, s.N, s.D}, u.options());
    at::Tensor dBp = at::zeros({s.blocks, s.B, s.L, s.N}, u.options()), dCp = at::zeros({s.blocks, s.B, s.L, s.N}, u.options());
    at::Tensor dDp = at::zeros({s.B, s.D}, u.options()), dBiasp = at::zeros({s.B, s.D}, u.options());
    at::Tensor dz = z.defined() ? at::empty_like(u) : at::Tensor();
    AT_DISPATCH_FLOATING_TYPES(u.scalar_type(), "selectiveScan backward", [&] {
      ScanBackward<scalar_t>(s, g.data_ptr<scalar_t>(), Ptr<scalar_t>(u), Ptr<scalar_t>(delta), Ptr<scalar_t>(At), Ptr<scalar_t>(Bm),
                             Ptr<scalar_t>(Cm), Ptr<scalar_t>(Dskip), Ptr<scalar_t>(z), Ptr<scalar_t>(bias),
                             mask.defined() ? mask.data_ptr<uint8_t>() : nullptr, softplus, Ptr<scalar_t>(deltaEff), Ptr<scalar_t>(H),
                             Ptr<scalar_t>(y), du.data_ptr<scalar_t>(), ddelta.data_ptr<scalar_t>(), dAp.data_ptr<scalar_t>(),
                             dBp.data_ptr<scalar_t>(), dCp.data_ptr<scalar_t>(), dDp.data_ptr<scalar_t>(),
                             dz.defined() ? dz.data_ptr<scalar_t>() : nullptr, dBiasp.data_ptr<scalar_t>());
    });
    at::Tensor dA = dAp.sum(0).t();  // [N,D] -> [D,N]
    return {du, ddelta, dA, dBp.sum(0), dCp.sum(0),
            Dskip.defined() ? dDp.sum(0) : at::Tensor(), dz, bias.defined() ? dBiasp.sum(0) : at::Tensor(),
            at::Tensor(), at::Tensor()};
  }
};

void CheckShape(Napi::Env env, const at::Tensor& t, std::initializer_list<int64_t> shape, const char* name,
                at::ScalarType dtype) {
  std::vector<int64_t> expected(shape);
  if (t.sizes().vec() != expected) {
    std::string e, g;
    for (auto x : expected) e += (e.empty() ? "" : ", ") + std::to_string(x);
    for (auto x : t.sizes()) g += (g.empty() ? "" : ", ") + std::to_string(x);
    throw Napi::Error::New(env, std::string("selectiveScan: ") + name + " must have shape [" + e + "], got [" + g + "]");
  }
  if (t.scalar_type() != dtype) {
    throw Napi::Error::New(env, std::string("selectiveScan: ") + name + " has dtype " + DtypeName(t.scalar_type()) +
                                    " but u has " + DtypeName(dtype));
  }
  if (!t.device().is_cpu()) {
    throw Napi::Error::New(env, std::string("selectiveScan: ") + name + " is on " + t.device().str() +
                                    "; the selective scan has only a CPU kernel");
  }
}

// selectiveScan(u, delta, A, B, C, D?, z?, deltaBias?, mask?, deltaSoftplus = true)
Napi::Value SelectiveScan(const Napi::CallbackInfo& info) {
  static constexpr const char* kOp = "selectiveScan";
  return Guard(info, kOp, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    at::Tensor& u = ArgTensor(info, 0, kOp, "u");
    at::Tensor& delta = ArgTensor(info, 1, kOp, "delta");
    at::Tensor& A = ArgTensor(info, 2, kOp, "A");
    at::Tensor& Bm = ArgTensor(info, 3, kOp, "B");
    at::Tensor& Cm = ArgTensor(info, 4, kOp, "C");
    auto Dskip = ArgOptTensor(info, 5, kOp, "D");
    auto z = ArgOptTensor(info, 6, kOp, "z");
    auto bias = ArgOptTensor(info, 7, kOp, "deltaBias");
    auto mask = ArgOptTensor(info, 8, kOp, "mask");
    bool softplus = ArgBool(info, 9, kOp, "deltaSoftplus", true);
    if (u.dim() != 3) throw Napi::Error::New(env, "selectiveScan: u must be [batch, length, channels]");
    if (A.dim() != 2) throw Napi::Error::New(env, "selectiveScan: A must be [channels, state]");
    if (u.scalar_type() != at::kFloat && u.scalar_type() != at::kDouble) {
      throw Napi::Error::New(env, "selectiveScan: u must be float32 or float64");
    }
    const int64_t b = u.size(0), l = u.size(1), d = u.size(2), n = A.size(1);
    const at::ScalarType dt = u.scalar_type();
    CheckShape(env, u, {b, l, d}, "u", dt);
    CheckShape(env, delta, {b, l, d}, "delta", dt);
    CheckShape(env, A, {d, n}, "A", dt);
    CheckShape(env, Bm, {b, l, n}, "B", dt);
    CheckShape(env, Cm, {b, l, n}, "C", dt);
    if (Dskip) CheckShape(env, *Dskip, {d}, "D", dt);
    if (z) CheckShape(env, *z, {b, l, d}, "z", dt);
    if (bias) CheckShape(env, *bias, {d}, "deltaBias", dt);
    if (mask) CheckShape(env, *mask, {b, l}, "mask", mask->scalar_type());
    return Wrap(env, SelectiveScanFn::apply(u, delta, A, Bm, Cm, Dskip, z, bias, mask, softplus));
  });
}

}  // namespace

void RegisterScan(Napi::Env env, Napi::Object exports) {
  exports.Set("selectiveScan", Napi::Function::New<SelectiveScan>(env, "selectiveScan"));
}

}  // namespace hcc
