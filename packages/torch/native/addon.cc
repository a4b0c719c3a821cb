// Addon entry point and process/thread-level settings: threads, seeds, grad mode, memory counters, CUDA.
// Context-aware: all state lives in napi_set_instance_data, so the addon loads in every worker_thread.
#include "common.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>
#include <torch/cuda.h>

namespace hcc {

namespace {

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  return Guard(info, "setNumThreads", [&]() -> Napi::Value {
    int64_t n = ArgInt(info, 0, "setNumThreads", "threads");
    if (n < 1) ThrowArg(info.Env(), "setNumThreads", "threads", "a positive integer");
    // With OpenMP the thread count is a per-OS-thread setting, so each worker_thread keeps its own cap. A thread's
    // first parallel call would reset it from the process-wide last value (lazy_init_num_threads); get first.
    at::get_num_threads();
    at::set_num_threads(static_cast<int>(n));
    State(info.Env()).threads = static_cast<int>(n);
    return info.Env().Undefined();
  });
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_threads());
}

Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  return Guard(info, "manualSeed", [&]() -> Napi::Value {
    int64_t seed = ArgInt(info, 0, "manualSeed", "seed");
    at::manual_seed(static_cast<uint64_t>(seed));
    return info.Env().Undefined();
  });
}

Napi::Value SetGradEnabled(const Napi::CallbackInfo& info) {
  return Guard(info, "setGradEnabled", [&]() -> Napi::Value {
    c10::GradMode::set_enabled(ArgBool(info, 0, "setGradEnabled", "enabled"));
    return info.Env().Undefined();
  });
}

Napi::Value IsGradEnabled(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), c10::GradMode::is_enabled());
}

Napi::Value Memory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonState& s = State(env);
  DrainBlobRefs(env, s);
  Napi::Object o = Napi::Object::New(env);
  o.Set("live", Napi::Number::New(env, static_cast<double>(s.live)));
  o.Set("peak", Napi::Number::New(env, static_cast<double>(s.peak)));
  o.Set("created", Napi::Number::New(env, static_cast<double>(s.created)));
  o.Set("disposed", Napi::Number::New(env, static_cast<double>(s.disposed)));
  o.Set("finalized", Napi::Number::New(env, static_cast<double>(s.finalized)));
  o.Set("externalBytes", Napi::Number::New(env, static_cast<double>(s.externalBytes)));
  return o;
}

Napi::Value ResetPeak(const Napi::CallbackInfo& info) {
  AddonState& s = State(info.Env());
  s.peak = s.live;
  return info.Env().Undefined();
}

Napi::Value SetReportExternalMemory(const Napi::CallbackInfo& info) {
  return Guard(info, "setReportExternalMemory", [&]() -> Napi::Value {
    State(info.Env()).reportExternal = ArgBool(info, 0, "setReportExternalMemory", "enabled");
    return info.Env().Undefined();
  });
}

Napi::Value CudaIsAvailable(const Napi::CallbackInfo& info) {
  return Guard(info, "cuda.isAvailable", [&]() -> Napi::Value { return Napi::Boolean::New(info.Env(), torch::cuda::is_available()); });
}

Napi::Value CudaDeviceCount(const Napi::CallbackInfo& info) {
  return Guard(info, "cuda.deviceCount", [&]() -> Napi::Value {
    return Napi::Number::New(info.Env(), static_cast<double>(torch::cuda::device_count()));
  });
}

Napi::Value CudaSynchronize(const Napi::CallbackInfo& info) {
  return Guard(info, "cuda.synchronize", [&]() -> Napi::Value {
    torch::cuda::synchronize(ArgInt(info, 0, "cuda.synchronize", "device", -1));
    return info.Env().Undefined();
  });
}

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("parallel", Napi::String::New(env, at::get_parallel_info()));
#ifdef HCC_TORCH_CUDA
  o.Set("cudaBuild", Napi::Boolean::New(env, true));
#else
  o.Set("cudaBuild", Napi::Boolean::New(env, false));
#endif
  return o;
}

}  // namespace

void RegisterRuntime(Napi::Env env, Napi::Object exports) {
  exports.Set("setNumThreads", Napi::Function::New<SetNumThreads>(env, "setNumThreads"));
  exports.Set("getNumThreads", Napi::Function::New<GetNumThreads>(env, "getNumThreads"));
  exports.Set("manualSeed", Napi::Function::New<ManualSeed>(env, "manualSeed"));
  exports.Set("setGradEnabled", Napi::Function::New<SetGradEnabled>(env, "setGradEnabled"));
  exports.Set("isGradEnabled", Napi::Function::New<IsGradEnabled>(env, "isGradEnabled"));
  exports.Set("memory", Napi::Function::New<Memory>(env, "memory"));
  exports.Set("resetPeak", Napi::Function::New<ResetPeak>(env, "resetPeak"));
  exports.Set("setReportExternalMemory", Napi::Function::New<SetReportExternalMemory>(env, "setReportExternalMemory"));
  exports.Set("cudaIsAvailable", Napi::Function::New<CudaIsAvailable>(env, "cudaIsAvailable"));
  exports.Set("cudaDeviceCount", Napi::Function::New<CudaDeviceCount>(env, "cudaDeviceCount"));
  exports.Set("cudaSynchronize", Napi::Function::New<CudaSynchronize>(env, "cudaSynchronize"));
  exports.Set("buildInfo", Napi::Function::New<BuildInfo>(env, "buildInfo"));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData<AddonData>(new AddonData());
  RegisterTensor(env, exports);
  RegisterRuntime(env, exports);
  RegisterAutograd(env, exports);
  RegisterGeneratedOps(env, exports);
  RegisterScan(env, exports);
  RegisterConv(env, exports);
  RegisterJit(env, exports);
  RegisterProfiler(env, exports);
  RegisterAllocator(env, exports);
  return exports;
}

}  // namespace hcc

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return hcc::Init(env, exports); }

NODE_API_MODULE(hcc_torch, InitAddon)
