// The JS Tensor object (one ObjectWrap per tensor), ownership and memory accounting, and the data paths between
// tensors and TypedArrays (copying by default, zero-copy on request).
#include "common.h"

#include <ATen/Functions.h>

#include <algorithm>
#include <atomic>
#include <cstring>

namespace hcc {

Napi::Function TensorWrap::Define(Napi::Env env) {
  return DefineClass(
      env, "Tensor",
      {
          InstanceAccessor<&TensorWrap::GetShape>("shape"),
          InstanceAccessor<&TensorWrap::GetDtype>("dtype"),
          InstanceAccessor<&TensorWrap::GetDevice>("device"),
          InstanceAccessor<&TensorWrap::GetNdim>("ndim"),
          InstanceAccessor<&TensorWrap::GetRequiresGrad>("requiresGrad"),
          InstanceAccessor<&TensorWrap::GetGrad, &TensorWrap::SetGrad>("grad", napi_configurable),  // redefined in tensor.ts
          InstanceAccessor<&TensorWrap::GetIsLeaf>("isLeaf"),
          InstanceAccessor<&TensorWrap::GetIsDisposed>("isDisposed"),
          InstanceAccessor<&TensorWrap::GetIsKept>("isKept"),
          InstanceMethod<&TensorWrap::Numel>("numel"),
          InstanceMethod<&TensorWrap::Size>("size"),
          InstanceMethod<&TensorWrap::Stride>("stride"),
          InstanceMethod<&TensorWrap::Dim>("dim"),
          InstanceMethod<&TensorWrap::ElementSize>("elementSize"),
          InstanceMethod<&TensorWrap::IsContiguous>("isContiguous"),
          InstanceMethod<&TensorWrap::Item>("item"),
          InstanceMethod<&TensorWrap::ToArray>("toArray"),
          InstanceMethod<&TensorWrap::View>("dataView"),
          InstanceMethod<&TensorWrap::Dispose>("dispose"),
          InstanceMethod<&TensorWrap::Keep>("keep"),
          InstanceMethod<&TensorWrap::Unkeep>("unkeep"),
          InstanceMethod<&TensorWrap::RequiresGradInplace>("requiresGrad_"),
          InstanceMethod<&TensorWrap::Backward>("backward"),
          InstanceMethod<&TensorWrap::RetainGrad>("retainGrad"),
          InstanceMethod<&TensorWrap::DataPtr>("dataPtr"),
          InstanceMethod<&TensorWrap::StorageOffset>("storageOffset"),
          InstanceMethod<&TensorWrap::Version>("version"),
      });
}

TensorWrap::TensorWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TensorWrap>(info) {
  Napi::Env env = info.Env();
  state_ = env.GetInstanceData<AddonData>()->state;
  AddonState& s = *state_;
  if (!s.constructing) {
    throw Napi::TypeError::New(env, "Tensor cannot be constructed with `new`; use tensor(), zeros(), fromArray() ...");
  }
  s.constructing = false;
  tensor = std::move(s.pending);
  TagTensor(env, info.This());
  s.live++;
  s.created++;
  s.peak = std::max(s.peak, s.live);
  // Tell V8 how much native memory this object holds so that it collects forgotten tensors sooner. Zero-copy
  // tensors are not reported: their ArrayBuffer is already counted by V8.
  if (s.pendingReport && s.reportExternal && tensor.device().is_cpu()) {
    int64_t bytes = static_cast<int64_t>(tensor.numel()) * static_cast<int64_t>(tensor.element_size());
    if (bytes >= 1024) {
      Napi::MemoryManagement::AdjustExternalMemory(env, bytes);
      reported_ = bytes;
      s.externalBytes += bytes;
    }
  }
  s.pendingReport = true;
}

void TensorWrap::Release(Napi::Env env, bool finalizing) {
  if (reported_ != 0) {
    Napi::MemoryManagement::AdjustExternalMemory(env, -reported_);
    state_->externalBytes -= reported_;
    reported_ = 0;
  }
  if (tensor.defined()) {
    tensor.reset();
    state_->live--;
    if (finalizing) state_->finalized++;
    else state_->disposed++;
  }
  disposed = true;
}

void TensorWrap::Finalize(Napi::Env env) { Release(env, true); }

void DrainBlobRefs(Napi::Env env, AddonState& state) {
  std::vector<napi_ref> refs;
  {
    std::lock_guard<std::mutex> lock(state.blobRefs->mutex);
    if (state.blobRefs->refs.empty()) return;
    refs.swap(state.blobRefs->refs);
  }
  for (napi_ref r : refs) napi_delete_reference(env, r);
}

Napi::Value Wrap(Napi::Env env, at::Tensor tensor, bool reportExternal) {
  AddonState& s = State(env);
  if (!s.blobRefs->refs.empty()) DrainBlobRefs(env, s);
  s.pending = std::move(tensor);
  s.pendingReport = reportExternal;
  s.constructing = true;
  return s.tensorCtor.New({});
}

Napi::Value WrapList(Napi::Env env, const std::vector<at::Tensor>& tensors) {
  Napi::Array arr = Napi::Array::New(env, tensors.size());
  for (size_t i = 0; i < tensors.size(); i++) arr.Set(static_cast<uint32_t>(i), Wrap(env, tensors[i]));
  return arr;
}

Napi::Value WrapTuple(Napi::Env env, std::initializer_list<at::Tensor> tensors) {
  return WrapList(env, std::vector<at::Tensor>(tensors));
}

namespace {

at::Tensor& Self(TensorWrap* w, const Napi::CallbackInfo& info, const char* op) {
  if (!w->tensor.defined()) {
    throw Napi::Error::New(info.Env(), std::string(op) + ": Tensor used after dispose()");
  }
  return w->tensor;
}

Napi::Array IntArray(Napi::Env env, at::IntArrayRef values) {
  Napi::Array arr = Napi::Array::New(env, values.size());
  for (size_t i = 0; i < values.size(); i++) arr.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(values[i])));
  return arr;
}

struct TypedInfo {
  at::ScalarType dtype;
  bool ok;
};

TypedInfo DtypeOfTypedArray(napi_typedarray_type t) {
  switch (t) {
    case napi_float32_array: return {at::kFloat, true};
    case napi_float64_array: return {at::kDouble, true};
    case napi_bigint64_array: return {at::kLong, true};
    case napi_int32_array: return {at::kInt, true};
    case napi_int16_array: return {at::kShort, true};
    case napi_int8_array: return {at::kChar, true};
    case napi_uint8_array:
    case napi_uint8_clamped_array: return {at::kByte, true};
    default: return {at::kByte, false};
  }
}

napi_typedarray_type TypedArrayTypeFor(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return napi_float32_array;
    case at::kDouble: return napi_float64_array;
    case at::kLong: return napi_bigint64_array;
    case at::kInt: return napi_int32_array;
    case at::kShort: return napi_int16_array;
    case at::kChar: return napi_int8_array;
    case at::kByte:
    case at::kBool: return napi_uint8_array;
    case at::kHalf:
    case at::kBFloat16: return napi_uint16_array;
    default: return napi_uint8_array;
  }
}

Napi::Value NewTypedArray(Napi::Env env, napi_typedarray_type type, int64_t length, Napi::ArrayBuffer buf) {
  napi_value out;
  NAPI_THROW_IF_FAILED(env, napi_create_typedarray(env, type, static_cast<size_t>(length), buf, 0, &out), Napi::Value());
  return Napi::Value(env, out);
}

std::vector<int64_t> CheckedShape(const Napi::CallbackInfo& info, size_t i, const char* op, size_t elements) {
  std::vector<int64_t> shape = ArgIntList(info, i, op, "shape");
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) ThrowArg(info.Env(), op, "shape", "non-negative sizes");
    n *= d;
  }
  if (static_cast<size_t>(n) != elements) {
    throw Napi::RangeError::New(info.Env(), std::string(op) + ": shape holds " + std::to_string(n) +
                                                " elements but the array has " + std::to_string(elements));
  }
  return shape;
}

// fromArray(typedArray, shape, options?): copies. options.dtype may differ from the array's type (converted);
// a Uint16Array with dtype float16/bfloat16 is taken as raw bits.
Napi::Value FromArray(const Napi::CallbackInfo& info) {
  return Guard(info, "fromArray", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsTypedArray()) ThrowArg(env, "fromArray", "data", "a TypedArray");
    Napi::TypedArray ta = info[0].As<Napi::TypedArray>();
    at::TensorOptions opts = ArgOptions(info, 2, "fromArray");
    bool dtypeGiven = !IsMissing(info, 2) && info[2].IsObject() && !info[2].As<Napi::Object>().Get("dtype").IsUndefined();
    TypedInfo ti = DtypeOfTypedArray(ta.TypedArrayType());
    at::ScalarType target = dtypeGiven ? c10::typeMetaToScalarType(opts.dtype()) : ti.dtype;
    if (ta.TypedArrayType() == napi_uint16_array && (target == at::kHalf || target == at::kBFloat16)) ti = {target, true};
    if (!ti.ok) ThrowArg(env, "fromArray", "data", "a Float32Array, Float64Array, BigInt64Array, Int32Array, Int16Array, Int8Array or Uint8Array");
    std::vector<int64_t> shape = CheckedShape(info, 1, "fromArray", ta.ElementLength());
    uint8_t* data = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    at::Tensor src = at::from_blob(data, shape, at::TensorOptions().dtype(ti.dtype));
    at::Tensor t = src.to(opts.device(), target, /*non_blocking=*/false, /*copy=*/true);
    return Wrap(env, ApplyRequiresGrad(info, 2, t));
  });
}

// fromBlob(typedArray, shape): zero-copy. The tensor keeps the TypedArray alive through a strong reference.
Napi::Value FromBlob(const Napi::CallbackInfo& info) {
  return Guard(info, "fromBlob", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsTypedArray()) ThrowArg(env, "fromBlob", "data", "a TypedArray");
    Napi::TypedArray ta = info[0].As<Napi::TypedArray>();
    TypedInfo ti = DtypeOfTypedArray(ta.TypedArrayType());
    if (!ti.ok) ThrowArg(env, "fromBlob", "data", "a Float32Array, Float64Array, BigInt64Array, Int32Array, Int16Array, Int8Array or Uint8Array");
    std::vector<int64_t> shape = CheckedShape(info, 1, "fromBlob", ta.ElementLength());
    uint8_t* data = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    napi_ref ref;
    NAPI_THROW_IF_FAILED(env, napi_create_reference(env, ta, 1, &ref), Napi::Value());
    std::shared_ptr<BlobRefQueue> queue = State(env).blobRefs;
    at::Tensor t = at::from_blob(
        data, shape,
        [queue, ref](void*) {
          std::lock_guard<std::mutex> lock(queue->mutex);
          queue->refs.push_back(ref);
        },
        at::TensorOptions().dtype(ti.dtype));
    return Wrap(env, t, /*reportExternal=*/false);
  });
}

// fromBuffer(bytes, dtype, shape): copies raw little-endian element bytes (as stored in checkpoints).
Napi::Value FromBuffer(const Napi::CallbackInfo& info) {
  return Guard(info, "fromBuffer", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsTypedArray()) ThrowArg(env, "fromBuffer", "bytes", "a Uint8Array");
    Napi::TypedArray ta = info[0].As<Napi::TypedArray>();
    at::ScalarType dtype = ParseDtype(env, ArgString(info, 1, "fromBuffer", "dtype"), "fromBuffer");
    size_t itemsize = c10::elementSize(dtype);
    if (ta.ByteLength() % itemsize != 0) {
      throw Napi::RangeError::New(env, "fromBuffer: " + std::to_string(ta.ByteLength()) +
                                           " bytes is not a whole number of " + DtypeName(dtype) + " elements");
    }
    std::vector<int64_t> shape = CheckedShape(info, 2, "fromBuffer", ta.ByteLength() / itemsize);
    at::Tensor t = at::empty(shape, at::TensorOptions().dtype(dtype));
    if (ta.ByteLength() > 0) {
      std::memcpy(t.data_ptr(), static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset(), ta.ByteLength());
    }
    return Wrap(env, t);
  });
}

Napi::Value CopyToTypedArray(Napi::Env env, const at::Tensor& src, bool raw) {
  at::Tensor t = src.detach();
  if (!raw && (t.scalar_type() == at::kHalf || t.scalar_type() == at::kBFloat16)) t = t.to(at::kFloat);
  t = t.to(at::kCPU).contiguous();
  size_t bytes = t.numel() * t.element_size();
  Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(env, bytes);
  if (bytes > 0) std::memcpy(buf.Data(), t.data_ptr(), bytes);
  if (raw) return Napi::Uint8Array::New(env, bytes, buf, 0);
  return NewTypedArray(env, TypedArrayTypeFor(t.scalar_type()), t.numel(), buf);
}

Napi::Value ToBuffer(const Napi::CallbackInfo& info) {
  return Guard(info, "toBuffer", [&]() -> Napi::Value {
    return CopyToTypedArray(info.Env(), ArgTensor(info, 0, "toBuffer", "self"), /*raw=*/true);
  });
}

// to(self, dtype?, device?, nonBlocking?, copy?)
Napi::Value To(const Napi::CallbackInfo& info) {
  return Guard(info, "to", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    at::Tensor& self = ArgTensor(info, 0, "to", "self");
    c10::optional<at::ScalarType> dtype = ArgOptDtype(info, 1, "to", "dtype");
    c10::optional<std::string> device = ArgOptString(info, 2, "to", "device");
    bool nonBlocking = ArgBool(info, 3, "to", "nonBlocking", false);
    bool copy = ArgBool(info, 4, "to", "copy", false);
    c10::Device dev = device ? ParseDevice(env, *device, "to") : self.device();
    return Wrap(env, self.to(dev, dtype.value_or(self.scalar_type()), nonBlocking, copy));
  });
}

}  // namespace

Napi::Value TensorWrap::GetShape(const Napi::CallbackInfo& info) { return IntArray(info.Env(), Self(this, info, "shape").sizes()); }
Napi::Value TensorWrap::GetDtype(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), DtypeName(Self(this, info, "dtype").scalar_type()));
}
Napi::Value TensorWrap::GetDevice(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), DeviceName(Self(this, info, "device").device()));
}
Napi::Value TensorWrap::GetNdim(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(Self(this, info, "ndim").dim())); }
Napi::Value TensorWrap::Dim(const Napi::CallbackInfo& info) { return GetNdim(info); }
Napi::Value TensorWrap::GetRequiresGrad(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), Self(this, info, "requiresGrad").requires_grad());
}
Napi::Value TensorWrap::GetGrad(const Napi::CallbackInfo& info) {
  const at::Tensor& g = Self(this, info, "grad").grad();
  if (!g.defined()) return info.Env().Null();
  return Wrap(info.Env(), g);
}
void TensorWrap::SetGrad(const Napi::CallbackInfo& info, const Napi::Value& value) {
  Guard(info, "grad", [&]() -> Napi::Value {
    at::Tensor& self = Self(this, info, "grad");
    if (value.IsNull() || value.IsUndefined()) self.mutable_grad().reset();
    else self.mutable_grad() = UnwrapTensor(info.Env(), value, "grad", "grad")->tensor;
    return info.Env().Undefined();
  });
}
Napi::Value TensorWrap::GetIsLeaf(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), Self(this, info, "isLeaf").is_leaf()); }
Napi::Value TensorWrap::GetIsDisposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !tensor.defined()); }
Napi::Value TensorWrap::GetIsKept(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), kept); }
Napi::Value TensorWrap::Numel(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(Self(this, info, "numel").numel())); }
Napi::Value TensorWrap::Size(const Napi::CallbackInfo& info) {
  return Guard(info, "size", [&]() -> Napi::Value {
    at::Tensor& t = Self(this, info, "size");
    if (IsMissing(info, 0)) return IntArray(info.Env(), t.sizes());
    return Napi::Number::New(info.Env(), static_cast<double>(t.size(ArgInt(info, 0, "size", "dim"))));
  });
}
Napi::Value TensorWrap::Stride(const Napi::CallbackInfo& info) {
  return Guard(info, "stride", [&]() -> Napi::Value {
    at::Tensor& t = Self(this, info, "stride");
    if (IsMissing(info, 0)) return IntArray(info.Env(), t.strides());
    return Napi::Number::New(info.Env(), static_cast<double>(t.stride(ArgInt(info, 0, "stride", "dim"))));
  });
}
Napi::Value TensorWrap::ElementSize(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(Self(this, info, "elementSize").element_size()));
}
Napi::Value TensorWrap::IsContiguous(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), Self(this, info, "isContiguous").is_contiguous());
}
Napi::Value TensorWrap::Item(const Napi::CallbackInfo& info) {
  return Guard(info, "item", [&]() -> Napi::Value {
    at::Scalar s = Self(this, info, "item").item();
    if (s.isBoolean()) return Napi::Number::New(info.Env(), s.toBool() ? 1 : 0);
    if (s.isIntegral(false)) return Napi::Number::New(info.Env(), static_cast<double>(s.toLong()));
    return Napi::Number::New(info.Env(), s.toDouble());
  });
}
Napi::Value TensorWrap::ToArray(const Napi::CallbackInfo& info) {
  return Guard(info, "toArray", [&]() -> Napi::Value { return CopyToTypedArray(info.Env(), Self(this, info, "toArray"), false); });
}
Napi::Value TensorWrap::View(const Napi::CallbackInfo& info) {
  return Guard(info, "dataView", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    at::Tensor& t = Self(this, info, "dataView");
    if (!t.device().is_cpu() || !t.is_contiguous()) {
      throw Napi::Error::New(env, "dataView: needs a contiguous CPU tensor; call .contiguous() or .to('cpu') first");
    }
    auto* owner = new at::Tensor(t);
    size_t bytes = t.numel() * t.element_size();
    Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(env, t.data_ptr(), bytes, [](Napi::Env, void*, at::Tensor* o) { delete o; }, owner);
    return NewTypedArray(env, TypedArrayTypeFor(t.scalar_type()), t.numel(), buf);
  });
}
Napi::Value TensorWrap::Dispose(const Napi::CallbackInfo& info) {
  Release(info.Env(), false);
  return info.Env().Undefined();
}
Napi::Value TensorWrap::Keep(const Napi::CallbackInfo& info) {
  Self(this, info, "keep");
  kept = true;
  return info.This();
}
Napi::Value TensorWrap::Unkeep(const Napi::CallbackInfo& info) {
  kept = false;
  return info.This();
}
Napi::Value TensorWrap::RequiresGradInplace(const Napi::CallbackInfo& info) {
  return Guard(info, "requiresGrad_", [&]() -> Napi::Value {
    Self(this, info, "requiresGrad_").requires_grad_(ArgBool(info, 0, "requiresGrad_", "requiresGrad", true));
    return info.This();
  });
}
// backward(gradient?, retainGraph?, createGraph?)
Napi::Value TensorWrap::Backward(const Napi::CallbackInfo& info) {
  return Guard(info, "backward", [&]() -> Napi::Value {
    at::Tensor& t = Self(this, info, "backward");
    c10::optional<at::Tensor> grad = ArgOptTensor(info, 0, "backward", "gradient");
    c10::optional<bool> retain = ArgOptBool(info, 1, "backward", "retainGraph");
    bool create = ArgBool(info, 2, "backward", "createGraph", false);
    t.backward(grad.value_or(at::Tensor()), retain, create);
    return info.Env().Undefined();
  });
}
Napi::Value TensorWrap::RetainGrad(const Napi::CallbackInfo& info) {
  return Guard(info, "retainGrad", [&]() -> Napi::Value {
    Self(this, info, "retainGrad").retain_grad();
    return info.This();
  });
}
Napi::Value TensorWrap::DataPtr(const Napi::CallbackInfo& info) {
  return Napi::BigInt::New(info.Env(), static_cast<uint64_t>(reinterpret_cast<uintptr_t>(Self(this, info, "dataPtr").data_ptr())));
}
Napi::Value TensorWrap::StorageOffset(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(Self(this, info, "storageOffset").storage_offset()));
}
Napi::Value TensorWrap::Version(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(Self(this, info, "version")._version()));
}

void RegisterTensor(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = TensorWrap::Define(env);
  State(env).tensorCtor = Napi::Persistent(ctor);
  exports.Set("Tensor", ctor);
  exports.Set("fromArray", Napi::Function::New<FromArray>(env, "fromArray"));
  exports.Set("fromBlob", Napi::Function::New<FromBlob>(env, "fromBlob"));
  exports.Set("fromBuffer", Napi::Function::New<FromBuffer>(env, "fromBuffer"));
  exports.Set("toBuffer", Napi::Function::New<ToBuffer>(env, "toBuffer"));
  exports.Set("to", Napi::Function::New<To>(env, "to"));
}

}  // namespace hcc
