// Shared by every translation unit of the addon. Only <ATen/core/Tensor.h> (1.3 s to parse) is included here;
// op TUs add <ATen/Functions.h>, the custom autograd ops' TUs (scan.cc, conv.cc) add custom_function.h, and only
// jit.cc includes torch/script.h.
#pragma once

#include <napi.h>

#include <ATen/core/Tensor.h>
#include <c10/util/Exception.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace hcc {

// Strong references to ArrayBuffers that back zero-copy tensors. libtorch may drop its last reference on any
// thread (or inside a GC finalizer), where napi_delete_reference is not allowed, so the deleter queues the
// reference and the JS thread deletes it at its next native call.
struct BlobRefQueue {
  std::mutex mutex;
  std::vector<napi_ref> refs;
};

// Per-environment state (one per main thread or worker_thread); held through napi_set_instance_data and shared
// with the tensor wrappers, whose finalizers may run while the environment is torn down.
struct AddonState {
  Napi::FunctionReference tensorCtor;
  Napi::FunctionReference moduleCtor;  // jit ScriptModule
  at::Tensor pending;  // the tensor Wrap() hands to the Tensor constructor
  bool constructing = false;
  bool pendingReport = true;
  bool reportExternal = true;
  int64_t live = 0, peak = 0, created = 0, disposed = 0, finalized = 0, externalBytes = 0;
  std::shared_ptr<BlobRefQueue> blobRefs = std::make_shared<BlobRefQueue>();
  int threads = 0;
};

struct AddonData {
  std::shared_ptr<AddonState> state = std::make_shared<AddonState>();
  // Wrappers may outlive this (their finalizers can run later during teardown); the constructor reference must
  // not, since deleting it needs a live environment.
  ~AddonData() {
    state->tensorCtor.Reset();
    state->moduleCtor.Reset();
  }
};

inline AddonState& State(Napi::Env env) { return *env.GetInstanceData<AddonData>()->state; }

void DrainBlobRefs(Napi::Env env, AddonState& state);

class TensorWrap : public Napi::ObjectWrap<TensorWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit TensorWrap(const Napi::CallbackInfo& info);
  void Finalize(Napi::Env env) override;

  at::Tensor tensor;
  bool disposed = false;
  bool kept = false;
  bool fromBlob = false;

  /** Frees the tensor now (dispose) or at finalization; idempotent. */
  void Release(Napi::Env env, bool finalizing);

 private:
  std::shared_ptr<AddonState> state_;
  int64_t reported_ = 0;

  Napi::Value GetShape(const Napi::CallbackInfo& info);
  Napi::Value GetDtype(const Napi::CallbackInfo& info);
  Napi::Value GetDevice(const Napi::CallbackInfo& info);
  Napi::Value GetNdim(const Napi::CallbackInfo& info);
  Napi::Value GetRequiresGrad(const Napi::CallbackInfo& info);
  Napi::Value GetGrad(const Napi::CallbackInfo& info);
  void SetGrad(const Napi::CallbackInfo& info, const Napi::Value& value);
  Napi::Value GetIsLeaf(const Napi::CallbackInfo& info);
  Napi::Value GetIsDisposed(const Napi::CallbackInfo& info);
  Napi::Value GetIsKept(const Napi::CallbackInfo& info);
  Napi::Value Numel(const Napi::CallbackInfo& info);
  Napi::Value Size(const Napi::CallbackInfo& info);
  Napi::Value Stride(const Napi::CallbackInfo& info);
  Napi::Value Dim(const Napi::CallbackInfo& info);
  Napi::Value ElementSize(const Napi::CallbackInfo& info);
  Napi::Value IsContiguous(const Napi::CallbackInfo& info);
  Napi::Value Item(const Napi::CallbackInfo& info);
  Napi::Value ToArray(const Napi::CallbackInfo& info);
  Napi::Value View(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value Keep(const Napi::CallbackInfo& info);
  Napi::Value Unkeep(const Napi::CallbackInfo& info);
  Napi::Value RequiresGradInplace(const Napi::CallbackInfo& info);
  Napi::Value Backward(const Napi::CallbackInfo& info);
  Napi::Value RetainGrad(const Napi::CallbackInfo& info);
  Napi::Value DataPtr(const Napi::CallbackInfo& info);
  Napi::Value StorageOffset(const Napi::CallbackInfo& info);
  Napi::Value Version(const Napi::CallbackInfo& info);
};

/** Wraps a tensor into a new JS Tensor object. */
Napi::Value Wrap(Napi::Env env, at::Tensor tensor, bool reportExternal = true);
Napi::Value WrapList(Napi::Env env, const std::vector<at::Tensor>& tensors);
Napi::Value WrapTuple(Napi::Env env, std::initializer_list<at::Tensor> tensors);

// Converts libtorch and C++ exceptions into JS Errors naming the operation, without the C++ backtrace.
template <typename F>
inline Napi::Value Guard(const Napi::CallbackInfo& info, const char* op, F&& body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(info.Env(), std::string(op) + ": " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), std::string(op) + ": " + e.what());
  }
}

void TagTensor(Napi::Env env, napi_value obj);
[[noreturn]] void ThrowArg(Napi::Env env, const char* op, const char* name, const std::string& expected);

// Argument converters. `op` and `name` only serve error messages ("conv3d: argument 'weight' ...").
inline bool IsMissing(const Napi::CallbackInfo& info, size_t i) {
  return i >= info.Length() || info[i].IsUndefined() || info[i].IsNull();
}
TensorWrap* UnwrapTensor(Napi::Env env, const Napi::Value& value, const char* op, const char* name);
at::Tensor& ArgTensor(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name);
c10::optional<at::Tensor> ArgOptTensor(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name);
std::vector<at::Tensor> ArgTensorList(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name);
bool IsScalarArg(const Napi::CallbackInfo& info, size_t i);
at::Scalar ToScalar(Napi::Env env, const Napi::Value& v, const char* op, const char* name);
at::Scalar ArgScalar(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name);
at::Scalar ArgScalar(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, at::Scalar dflt);
c10::optional<at::Scalar> ArgOptScalar(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name);
int64_t ArgInt(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name);
int64_t ArgInt(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, int64_t dflt);
c10::optional<int64_t> ArgOptInt(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name);
double ArgDouble(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name);
double ArgDouble(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, double dflt);
c10::optional<double> ArgOptDouble(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name);
bool ArgBool(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name);
bool ArgBool(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, bool dflt);
c10::optional<bool> ArgOptBool(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name);
std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name);
std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, const char* dflt);
c10::optional<std::string> ArgOptString(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name);
/** An int list; a single number is repeated `expand` times (PyTorch's int[3] arguments). */
std::vector<int64_t> ArgIntList(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name,
                                size_t expand = 0);
std::vector<int64_t> ArgIntList(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name,
                                size_t expand, std::vector<int64_t> dflt);
c10::optional<std::vector<int64_t>> ArgOptIntList(const Napi::CallbackInfo& info, size_t i, const char* op,
                                                  const char* name, size_t expand = 0);
c10::optional<std::vector<double>> ArgOptDoubleList(const Napi::CallbackInfo& info, size_t i, const char* op,
                                                    const char* name);
c10::optional<at::ScalarType> ArgOptDtype(const Napi::CallbackInfo& info, size_t i, const char* op,
                                          const char* name);
at::TensorOptions ArgOptions(const Napi::CallbackInfo& info, size_t i, const char* op);
/** Applies `requiresGrad` from a factory's options object after creation. */
at::Tensor ApplyRequiresGrad(const Napi::CallbackInfo& info, size_t i, at::Tensor t);

inline c10::OptionalIntArrayRef OptRef(const c10::optional<std::vector<int64_t>>& v) {
  if (!v) return c10::nullopt;
  return at::IntArrayRef(*v);
}
inline c10::optional<at::ArrayRef<double>> OptRef(const c10::optional<std::vector<double>>& v) {
  if (!v) return c10::nullopt;
  return at::ArrayRef<double>(*v);
}

at::ScalarType ParseDtype(Napi::Env env, const std::string& s, const char* op);
const char* DtypeName(at::ScalarType t);
c10::Device ParseDevice(Napi::Env env, const std::string& s, const char* op);
std::string DeviceName(const c10::Device& d);

// Registration of each TU's functions on the addon's exports.
void RegisterTensor(Napi::Env env, Napi::Object exports);
void RegisterAutograd(Napi::Env env, Napi::Object exports);
void RegisterRuntime(Napi::Env env, Napi::Object exports);
void RegisterGeneratedOps(Napi::Env env, Napi::Object exports);
void RegisterScan(Napi::Env env, Napi::Object exports);
void RegisterConv(Napi::Env env, Napi::Object exports);
void RegisterJit(Napi::Env env, Napi::Object exports);
void RegisterProfiler(Napi::Env env, Napi::Object exports);
void RegisterAllocator(Napi::Env env, Napi::Object exports);

}  // namespace hcc
