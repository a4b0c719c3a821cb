// A stride-1 3-D convolution whose weight gradient is computed as a forward convolution (CPU).
// Why: libtorch 1.13 hands oneDNN 2.6 the weight gradient's tensors in plain ncdhw layout, for which oneDNN picks
// its gemm path with a scalar im2col; the forward and data-gradient passes reorder to the blocked layout and run
// the AVX2 kernels. At U-Net shapes the weight gradient took 3-4x the forward's time (ONEDNN_VERBOSE: x64:gemm:jit,
// 124 ms against 28 ms forward for 32->16 channels at 40x32x40, batch 2).
// For stride 1 and dilation 1,
//   dW[o, i, k] = sum_{n, p} x[n, i, p + k - pad] * dy[n, o, p],
// which is conv3d(x^T, dy^T, padding = pad) with batch and channels swapped (x^T: [Cin, N, ...] as the input,
// dy^T: [Cout, N, ...] as the kernel), an output of [Cin, Cout, kD, kH, kW]. oneDNN runs that on its forward
// kernels: 2-3x faster when Cin >= 8, slower below (functional.ts picks the cases; BENCHMARKS.md).
// Forward and the input gradient are ATen's own.
#include "common.h"

#include <ATen/Functions.h>
#include <torch/csrc/autograd/custom_function.h>

namespace hcc {

namespace {

struct Conv3dWgradAsConvFn : public torch::autograd::Function<Conv3dWgradAsConvFn> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
                            const c10::optional<at::Tensor>& bias, std::vector<int64_t> padding) {
    ctx->save_for_backward({x, weight});
    ctx->saved_data["padding"] = padding;
    ctx->saved_data["bias"] = bias.has_value();
    return at::convolution(x, weight, bias, {1, 1, 1}, padding, {1, 1, 1}, false, {0, 0, 0}, 1);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    auto v = ctx->get_saved_variables();
    const at::Tensor &x = v[0], &weight = v[1];
    const at::Tensor& gy = grads[0];
    const std::vector<int64_t> padding = ctx->saved_data["padding"].toIntVector();
    at::Tensor gx, gw, gb;
    if (ctx->needs_input_grad(0)) {
      gx = std::get<0>(at::convolution_backward(gy, x, weight, c10::nullopt, {1, 1, 1}, padding, {1, 1, 1}, false,
                                                {0, 0, 0}, 1, {true, false, false}));
    }
    if (ctx->needs_input_grad(1)) {
      gw = at::convolution(x.transpose(0, 1), gy.transpose(0, 1), c10::nullopt, {1, 1, 1}, padding, {1, 1, 1}, false,
                           {0, 0, 0}, 1)
               .transpose(0, 1);
    }
    if (ctx->saved_data["bias"].toBool() && ctx->needs_input_grad(2)) gb = gy.sum(at::IntArrayRef{0, 2, 3, 4});
    return {gx, gw, gb, at::Tensor()};
  }
};

// conv3dWgradAsConv(input, weight, bias?, padding)
Napi::Value Conv3dWgradAsConv(const Napi::CallbackInfo& info) {
  static constexpr const char* kOp = "conv3dWgradAsConv";
  return Guard(info, kOp, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    at::Tensor& x = ArgTensor(info, 0, kOp, "input");
    at::Tensor& w = ArgTensor(info, 1, kOp, "weight");
    auto bias = ArgOptTensor(info, 2, kOp, "bias");
    std::vector<int64_t> padding = ArgIntList(info, 3, kOp, "padding", 3);
    if (x.dim() != 5 || w.dim() != 5) {
      throw Napi::Error::New(env, "conv3dWgradAsConv: input and weight must be 5-D ([N, C, D, H, W], [Cout, Cin, kD, kH, kW])");
    }
    if (w.size(1) != x.size(1)) {
      throw Napi::Error::New(env, "conv3dWgradAsConv: weight has " + std::to_string(w.size(1)) + " input channels but input has " +
                                      std::to_string(x.size(1)) + " (groups are not supported)");
    }
    if (!x.device().is_cpu() || !w.device().is_cpu()) throw Napi::Error::New(env, "conv3dWgradAsConv: input and weight must be CPU tensors");
    return Wrap(env, Conv3dWgradAsConvFn::apply(x, w, bias, padding));
  });
}

}  // namespace

void RegisterConv(Napi::Env env, Napi::Object exports) {
  exports.Set("conv3dWgradAsConv", Napi::Function::New<Conv3dWgradAsConv>(env, "conv3dWgradAsConv"));
}

}  // namespace hcc
