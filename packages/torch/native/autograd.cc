// Autograd entry points beyond Tensor.backward(): torch.autograd.grad and grad_fn names.
#include "common.h"

#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/function.h>

namespace hcc {

namespace {

// grad(outputs[], inputs[], gradOutputs?[], retainGraph?, createGraph?, allowUnused?) -> (Tensor|null)[]
Napi::Value Grad(const Napi::CallbackInfo& info) {
  return Guard(info, "autograd.grad", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    std::vector<at::Tensor> outputs = ArgTensorList(info, 0, "autograd.grad", "outputs");
    std::vector<at::Tensor> inputs = ArgTensorList(info, 1, "autograd.grad", "inputs");
    std::vector<at::Tensor> gradOutputs;
    if (!IsMissing(info, 2)) gradOutputs = ArgTensorList(info, 2, "autograd.grad", "gradOutputs");
    c10::optional<bool> retain = ArgOptBool(info, 3, "autograd.grad", "retainGraph");
    bool create = ArgBool(info, 4, "autograd.grad", "createGraph", false);
    bool allowUnused = ArgBool(info, 5, "autograd.grad", "allowUnused", false);
    std::vector<at::Tensor> grads = torch::autograd::grad(outputs, inputs, gradOutputs, retain, create, allowUnused);
    Napi::Array arr = Napi::Array::New(env, grads.size());
    for (size_t i = 0; i < grads.size(); i++) {
      arr.Set(static_cast<uint32_t>(i), grads[i].defined() ? Wrap(env, grads[i]) : env.Null());
    }
    return arr;
  });
}

Napi::Value GradFnName(const Napi::CallbackInfo& info) {
  return Guard(info, "gradFn", [&]() -> Napi::Value {
    const at::Tensor& t = ArgTensor(info, 0, "gradFn", "self");
    const auto& fn = t.grad_fn();
    if (!fn) return info.Env().Null();
    return Napi::String::New(info.Env(), fn->name());
  });
}

}  // namespace

void RegisterAutograd(Napi::Env env, Napi::Object exports) {
  exports.Set("autogradGrad", Napi::Function::New<Grad>(env, "autogradGrad"));
  exports.Set("gradFnName", Napi::Function::New<GradFnName>(env, "gradFnName"));
}

}  // namespace hcc
