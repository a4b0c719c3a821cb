// The Mamba (S6) selective scan as a custom autograd Function with a hand-written backward (CPU).
// Equations: /work/shared/research/pmn-design.md §1.1 and §1.3, in token-major layout:
//   u, delta, z: [B, L, D]   A: [D, N]   Bm, Cm: [B, L, N]   Dskip, deltaBias: [D]   mask: [B, L] (nonzero = valid)
//   Δ = softplus(delta + deltaBias) (threshold 20, as the CUDA kernel), then Δ = 0 where mask == 0, so a masked
//   token neither writes to nor decays the state (upstream mamba#368)
//   h_t = exp(Δ_t A) ⊙ h_{t-1} + Δ_t Bm_t u_t;  y_t = Σ_n Cm_{t,n} h_{t,n} + Dskip u_t;  out = y ⊙ silu(z)
// The recurrence (scan_kernels.inc) is vectorised over channels: each task owns one (batch, block of kBlock
// channels) and runs t -> n -> channel loops over contiguous channel rows; reductions over channels (dB, dC) and
// batches (dA) go through per-task partial buffers, so no atomics are needed. Elementwise work over [B, L, D]
// (softplus, mask, gate, their derivatives, dD, dbias) is left to ATen's vectorised ops: done per (t, channel)
// with libm inside the loops it cost more than the recurrence itself.
#include "common.h"

#include <ATen/Dispatch.h>
#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <ATen/TensorOperators.h>
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

namespace portable {
#include "scan_kernels.inc"
}  // namespace portable

#if defined(__x86_64__) && defined(__GNUC__)
#define HCC_SCAN_AVX2 1
#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace avx2 {
#include "scan_kernels.inc"
}  // namespace avx2
#pragma GCC pop_options
#endif

// The baseline build only has SSE2 (4 floats per vector); most x86 servers have AVX2 + FMA (8, fused).
bool UseAvx2() {
#ifdef HCC_SCAN_AVX2
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
#else
  return false;
#endif
}

template <typename T>
void RunForward(const Dims& s, const T* u, const T* dt, const T* At, const T* Bm, const T* Cm, const T* Dskip, T* H, T* y) {
#ifdef HCC_SCAN_AVX2
  if (UseAvx2()) return avx2::ScanForward<T>(s, u, dt, At, Bm, Cm, Dskip, H, y);
#endif
  portable::ScanForward<T>(s, u, dt, At, Bm, Cm, Dskip, H, y);
}

template <typename T>
void RunBackward(const Dims& s, const T* gy, const T* u, const T* dt, const T* At, const T* Bm, const T* Cm, const T* H,
                 T* du, T* dDelta, T* dAp, T* dBp, T* dCp) {
#ifdef HCC_SCAN_AVX2
  if (UseAvx2()) return avx2::ScanBackward<T>(s, gy, u, dt, At, Bm, Cm, H, du, dDelta, dAp, dBp, dCp);
#endif
  portable::ScanBackward<T>(s, gy, u, dt, At, Bm, Cm, H, du, dDelta, dAp, dBp, dCp);
}

template <typename T>
void RunConvForward(int64_t B, int64_t L, int64_t D, int64_t K, const T* x, const T* wt, const T* bias, T* pre) {
#ifdef HCC_SCAN_AVX2
  if (UseAvx2()) return avx2::CausalConvForward<T>(B, L, D, K, x, wt, bias, pre);
#endif
  portable::CausalConvForward<T>(B, L, D, K, x, wt, bias, pre);
}

template <typename T>
void RunConvBackward(int64_t B, int64_t L, int64_t D, int64_t K, const T* x, const T* wt, const T* dpre, T* dx, T* dwp, T* dbp) {
#ifdef HCC_SCAN_AVX2
  if (UseAvx2()) return avx2::CausalConvBackward<T>(B, L, D, K, x, wt, dpre, dx, dwp, dbp);
#endif
  portable::CausalConvBackward<T>(B, L, D, K, x, wt, dpre, dx, dwp, dbp);
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
    at::Tensor uc = u.contiguous(), At = A.t().contiguous(), Bc = Bm.contiguous(), Cc = Cm.contiguous();
    at::Tensor Dc = Dskip ? Dskip->contiguous() : at::Tensor();
    // Δ = softplus(delta + bias), 0 at masked tokens: elementwise over [B, L, D], so ATen's vectorised kernels.
    at::Tensor x = bias ? delta + *bias : delta;
    at::Tensor valid = mask ? mask->ne(0).unsqueeze(-1).to(u.scalar_type()) : at::Tensor();
    at::Tensor dt = softplus ? at::softplus(x, 1, 20) : x;
    if (valid.defined()) dt = dt * valid;
    dt = dt.contiguous();
    at::Tensor H = at::empty({s.B, s.L, s.N, s.D}, uc.options()), y = at::empty_like(uc);
    AT_DISPATCH_FLOATING_TYPES(uc.scalar_type(), "selectiveScan", [&] {
      RunForward<scalar_t>(s, uc.data_ptr<scalar_t>(), dt.data_ptr<scalar_t>(), At.data_ptr<scalar_t>(), Bc.data_ptr<scalar_t>(),
                           Cc.data_ptr<scalar_t>(), Ptr<scalar_t>(Dc), H.data_ptr<scalar_t>(), y.data_ptr<scalar_t>());
    });
    at::Tensor zc = z ? z->contiguous() : at::Tensor();
    ctx->save_for_backward({uc, x, At, Bc, Cc, Dc, zc, valid, dt, H, y});
    ctx->saved_data["softplus"] = softplus;
    ctx->saved_data["bias"] = bias.has_value();
    return zc.defined() ? y * at::silu(zc) : y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    auto v = ctx->get_saved_variables();
    const at::Tensor &u = v[0], &x = v[1], &At = v[2], &Bm = v[3], &Cm = v[4], &Dskip = v[5], &z = v[6], &valid = v[7],
                     &dt = v[8], &H = v[9], &y = v[10];
    const bool softplus = ctx->saved_data["softplus"].toBool();
    const bool hasBias = ctx->saved_data["bias"].toBool();
    const Dims s{u.size(0), u.size(1), u.size(2), At.size(0), (u.size(2) + kBlock - 1) / kBlock};
    at::Tensor g = grads[0];
    // The gate out = y ⊙ silu(z): gy = g ⊙ silu(z), dz = g ⊙ y ⊙ σ(z)(1 + z(1 − σ(z))).
    at::Tensor gy = g, dz;
    if (z.defined()) {
      at::Tensor sz = at::sigmoid(z);
      gy = g * z * sz;
      dz = g * y * sz * (1 + z * (1 - sz));
    }
    gy = gy.contiguous();
    at::Tensor du = Dskip.defined() ? (gy * Dskip).contiguous() : at::zeros_like(u);
    at::Tensor dDelta = at::empty_like(u);
    at::Tensor dAp = at::zeros({s.B, s.N, s.D}, u.options());
    at::Tensor dBp = at::zeros({s.blocks, s.B, s.L, s.N}, u.options()), dCp = at::zeros({s.blocks, s.B, s.L, s.N}, u.options());
    AT_DISPATCH_FLOATING_TYPES(u.scalar_type(), "selectiveScan backward", [&] {
      RunBackward<scalar_t>(s, gy.data_ptr<scalar_t>(), u.data_ptr<scalar_t>(), dt.data_ptr<scalar_t>(), At.data_ptr<scalar_t>(),
                            Bm.data_ptr<scalar_t>(), Cm.data_ptr<scalar_t>(), H.data_ptr<scalar_t>(), du.data_ptr<scalar_t>(),
                            dDelta.data_ptr<scalar_t>(), dAp.data_ptr<scalar_t>(), dBp.data_ptr<scalar_t>(), dCp.data_ptr<scalar_t>());
    });
    // dδ = dΔ · softplus'(δ + bias) (1 above the threshold), 0 at masked tokens.
    at::Tensor ddelta = softplus ? at::softplus_backward(dDelta, x, 1, 20) : dDelta;
    if (valid.defined()) ddelta = ddelta * valid;
    at::Tensor dA = dAp.sum(0).t();  // [N,D] -> [D,N]
    return {du, ddelta, dA, dBp.sum(0), dCp.sum(0),
            Dskip.defined() ? (gy * u).sum(at::IntArrayRef{0, 1}) : at::Tensor(), dz, hasBias ? ddelta.sum(at::IntArrayRef{0, 1}) : at::Tensor(),
            at::Tensor(), at::Tensor()};
  }
};

// Causal depthwise conv (+ SiLU) over tokens: x [B, L, D], weight [D, K], bias [D]. The op-by-op form (pad, K
// shifted multiply-adds) cost 35 ms of CPU per PMN direction at batch 8, mostly in the backward of its slices and
// broadcasts; this is one pass each way.
struct CausalConvFn : public torch::autograd::Function<CausalConvFn> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
                            const c10::optional<at::Tensor>& bias, bool silu) {
    at::Tensor xc = x.contiguous(), wt = weight.t().contiguous();
    at::Tensor bc = bias ? bias->contiguous() : at::Tensor();
    const int64_t B = x.size(0), L = x.size(1), D = x.size(2), K = weight.size(1);
    at::Tensor pre = at::empty_like(xc);
    AT_DISPATCH_FLOATING_TYPES(xc.scalar_type(), "causalConv1d", [&] {
      RunConvForward<scalar_t>(B, L, D, K, xc.data_ptr<scalar_t>(), wt.data_ptr<scalar_t>(), Ptr<scalar_t>(bc), pre.data_ptr<scalar_t>());
    });
    ctx->save_for_backward({xc, wt, pre});
    ctx->saved_data["silu"] = silu;
    ctx->saved_data["bias"] = bias.has_value();
    return silu ? at::silu(pre) : pre;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    auto v = ctx->get_saved_variables();
    const at::Tensor &x = v[0], &wt = v[1], &pre = v[2];
    const int64_t B = x.size(0), L = x.size(1), D = x.size(2), K = wt.size(0);
    at::Tensor dpre = (ctx->saved_data["silu"].toBool() ? at::silu_backward(grads[0], pre) : grads[0]).contiguous();
    at::Tensor dx = at::empty_like(x), dwp = at::zeros({B, K, D}, x.options()), dbp = at::zeros({B, D}, x.options());
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "causalConv1d backward", [&] {
      RunConvBackward<scalar_t>(B, L, D, K, x.data_ptr<scalar_t>(), wt.data_ptr<scalar_t>(), dpre.data_ptr<scalar_t>(),
                                dx.data_ptr<scalar_t>(), dwp.data_ptr<scalar_t>(), dbp.data_ptr<scalar_t>());
    });
    return {dx, dwp.sum(0).t(), ctx->saved_data["bias"].toBool() ? dbp.sum(0) : at::Tensor(), at::Tensor()};
  }
};

void CheckShape(Napi::Env env, const at::Tensor& t, std::initializer_list<int64_t> shape, const char* name,
                at::ScalarType dtype, const char* op = "selectiveScan", const char* ref = "u") {
  std::vector<int64_t> expected(shape);
  if (t.sizes().vec() != expected) {
    std::string e, g;
    for (auto x : expected) e += (e.empty() ? "" : ", ") + std::to_string(x);
    for (auto x : t.sizes()) g += (g.empty() ? "" : ", ") + std::to_string(x);
    throw Napi::Error::New(env, std::string(op) + ": " + name + " must have shape [" + e + "], got [" + g + "]");
  }
  if (t.scalar_type() != dtype) {
    throw Napi::Error::New(env, std::string(op) + ": " + name + " has dtype " + DtypeName(t.scalar_type()) +
                                    " but " + ref + " has " + DtypeName(dtype));
  }
  if (!t.device().is_cpu()) {
    throw Napi::Error::New(env, std::string(op) + ": " + name + " is on " + t.device().str() + "; there is only a CPU kernel");
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

// causalConv1d(x, weight, bias?, silu = true)
Napi::Value CausalConv1d(const Napi::CallbackInfo& info) {
  static constexpr const char* kOp = "causalConv1d";
  return Guard(info, kOp, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    at::Tensor& x = ArgTensor(info, 0, kOp, "x");
    at::Tensor& w = ArgTensor(info, 1, kOp, "weight");
    auto bias = ArgOptTensor(info, 2, kOp, "bias");
    bool silu = ArgBool(info, 3, kOp, "silu", true);
    if (x.dim() != 3) throw Napi::Error::New(env, "causalConv1d: x must be [batch, length, channels]");
    if (x.scalar_type() != at::kFloat && x.scalar_type() != at::kDouble) {
      throw Napi::Error::New(env, "causalConv1d: x must be float32 or float64");
    }
    if (w.dim() != 2) throw Napi::Error::New(env, "causalConv1d: weight must be [channels, kernel]");
    const int64_t d = x.size(2);
    CheckShape(env, w, {d, w.size(1)}, "weight", x.scalar_type(), kOp, "x");
    if (bias) CheckShape(env, *bias, {d}, "bias", x.scalar_type(), kOp, "x");
    if (!x.device().is_cpu()) throw Napi::Error::New(env, "causalConv1d: x is on " + x.device().str() + "; only a CPU kernel exists");
    return Wrap(env, CausalConvFn::apply(x, w, bias, silu));
  });
}

}  // namespace

void RegisterScan(Napi::Env env, Napi::Object exports) {
  exports.Set("selectiveScan", Napi::Function::New<SelectiveScan>(env, "selectiveScan"));
  exports.Set("causalConv1d", Napi::Function::New<CausalConv1d>(env, "causalConv1d"));
}

}  // namespace hcc
