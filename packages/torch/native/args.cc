// JS value -> libtorch argument conversion, with errors that name the operation and the argument.
#include "common.h"

#include <c10/core/TensorOptions.h>

#include <cmath>

namespace hcc {

namespace {
// Marks JS objects created by this addon's Tensor constructor (napi_type_tag_object), so a foreign object
// gives "expected a Tensor" instead of a wrong unwrap.
constexpr napi_type_tag kTensorTag = {0x6863635f746f7263ULL, 0x685f74656e736f72ULL};
}  // namespace

void TagTensor(Napi::Env env, napi_value obj) {
  NAPI_THROW_IF_FAILED_VOID(env, napi_type_tag_object(env, obj, &kTensorTag));
}

[[noreturn]] void ThrowArg(Napi::Env env, const char* op, const char* name, const std::string& expected) {
  throw Napi::TypeError::New(env, std::string(op) + ": argument '" + name + "' must be " + expected);
}

TensorWrap* UnwrapTensor(Napi::Env env, const Napi::Value& value, const char* op, const char* name) {
  if (!value.IsObject()) ThrowArg(env, op, name, "a Tensor");
  bool isTensor = false;
  napi_check_object_type_tag(env, value, &kTensorTag, &isTensor);
  if (!isTensor) ThrowArg(env, op, name, "a Tensor");
  TensorWrap* w = TensorWrap::Unwrap(value.As<Napi::Object>());
  if (!w->tensor.defined()) {
    throw Napi::Error::New(env, std::string(op) + ": argument '" + name +
                                    "' is a Tensor used after dispose(); keep() it or clone() it before its scope ends");
  }
  return w;
}

at::Tensor& ArgTensor(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  if (i >= info.Length()) ThrowArg(info.Env(), op, name, "a Tensor (missing)");
  return UnwrapTensor(info.Env(), info[i], op, name)->tensor;
}

c10::optional<at::Tensor> ArgOptTensor(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  if (IsMissing(info, i)) return c10::nullopt;
  return UnwrapTensor(info.Env(), info[i], op, name)->tensor;
}

std::vector<at::Tensor> ArgTensorList(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  if (i >= info.Length() || !info[i].IsArray()) ThrowArg(info.Env(), op, name, "an array of Tensors");
  Napi::Array arr = info[i].As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); k++) out.push_back(UnwrapTensor(info.Env(), arr[k], op, name)->tensor);
  return out;
}

bool IsScalarArg(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length()) return false;
  const Napi::Value v = info[i];
  return v.IsNumber() || v.IsBoolean() || v.IsBigInt();
}

at::Scalar ToScalar(Napi::Env env, const Napi::Value& v, const char* op, const char* name) {
  if (v.IsNumber()) {
    // JS has one number type; integral values act as Python ints so that int tensors stay int (x + 1).
    double d = v.As<Napi::Number>().DoubleValue();
    if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9007199254740992.0) return at::Scalar(static_cast<int64_t>(d));
    return at::Scalar(d);
  }
  if (v.IsBoolean()) return at::Scalar(v.As<Napi::Boolean>().Value());
  if (v.IsBigInt()) {
    bool lossless = true;
    int64_t x = v.As<Napi::BigInt>().Int64Value(&lossless);
    if (!lossless) ThrowArg(env, op, name, "a BigInt within int64 range");
    return at::Scalar(x);
  }
  ThrowArg(env, op, name, "a number");
}

at::Scalar ArgScalar(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  if (i >= info.Length()) ThrowArg(info.Env(), op, name, "a number (missing)");
  return ToScalar(info.Env(), info[i], op, name);
}
at::Scalar ArgScalar(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, at::Scalar dflt) {
  if (IsMissing(info, i)) return dflt;
  return ToScalar(info.Env(), info[i], op, name);
}
c10::optional<at::Scalar> ArgOptScalar(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  if (IsMissing(info, i)) return c10::nullopt;
  return ToScalar(info.Env(), info[i], op, name);
}

static int64_t ToInt(Napi::Env env, const Napi::Value& v, const char* op, const char* name) {
  if (v.IsBigInt()) {
    bool lossless = true;
    int64_t x = v.As<Napi::BigInt>().Int64Value(&lossless);
    if (lossless) return x;
  }
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (std::isfinite(d) && d == std::trunc(d)) return static_cast<int64_t>(d);
  }
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? 1 : 0;
  ThrowArg(env, op, name, "an integer");
}

int64_t ArgInt(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  if (i >= info.Length()) ThrowArg(info.Env(), op, name, "an integer (missing)");
  return ToInt(info.Env(), info[i], op, name);
}
int64_t ArgInt(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, int64_t dflt) {
  if (IsMissing(info, i)) return dflt;
  return ToInt(info.Env(), info[i], op, name);
}
c10::optional<int64_t> ArgOptInt(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  if (IsMissing(info, i)) return c10::nullopt;
  return ToInt(info.Env(), info[i], op, name);
}

static double ToDouble(Napi::Env env, const Napi::Value& v, const char* op, const char* name) {
  if (v.IsNumber()) return v.As<Napi::Number>().DoubleValue();
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? 1.0 : 0.0;
  ThrowArg(env, op, name, "a number");
}
double ArgDouble(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  if (i >= info.Length()) ThrowArg(info.Env(), op, name, "a number (missing)");
  return ToDouble(info.Env(), info[i], op, name);
}
double ArgDouble(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, double dflt) {
  if (IsMissing(info, i)) return dflt;
  return ToDouble(info.Env(), info[i], op, name);
}
c10::optional<double> ArgOptDouble(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  if (IsMissing(info, i)) return c10::nullopt;
  return ToDouble(info.Env(), info[i], op, name);
}

static bool ToBool(Napi::Env env, const Napi::Value& v, const char* op, const char* name) {
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value();
  if (v.IsNumber()) return v.As<Napi::Number>().DoubleValue() != 0;
  ThrowArg(env, op, name, "a boolean");
}
bool ArgBool(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  if (i >= info.Length()) ThrowArg(info.Env(), op, name, "a boolean (missing)");
  return ToBool(info.Env(), info[i], op, name);
}
bool ArgBool(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, bool dflt) {
  if (IsMissing(info, i)) return dflt;
  return ToBool(info.Env(), info[i], op, name);
}
c10::optional<bool> ArgOptBool(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  if (IsMissing(info, i)) return c10::nullopt;
  return ToBool(info.Env(), info[i], op, name);
}

std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  if (i >= info.Length() || !info[i].IsString()) ThrowArg(info.Env(), op, name, "a string");
  return info[i].As<Napi::String>().Utf8Value();
}
std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, const char* dflt) {
  if (IsMissing(info, i)) return dflt;
  return ArgString(info, i, op, name);
}
c10::optional<std::string> ArgOptString(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  if (IsMissing(info, i)) return c10::nullopt;
  return ArgString(info, i, op, name);
}

std::vector<int64_t> ArgIntList(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name,
                                size_t expand) {
  Napi::Env env = info.Env();
  if (i >= info.Length()) ThrowArg(env, op, name, "an integer array (missing)");
  const Napi::Value v = info[i];
  if (expand > 0 && (v.IsNumber() || v.IsBigInt())) return std::vector<int64_t>(expand, ToInt(env, v, op, name));
  if (!v.IsArray()) ThrowArg(env, op, name, expand > 0 ? "an integer or an integer array" : "an integer array");
  Napi::Array arr = v.As<Napi::Array>();
  std::vector<int64_t> out(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); k++) out[k] = ToInt(env, arr[k], op, name);
  if (expand > 1 && out.size() == 1) out.assign(expand, out[0]);
  if (expand > 0 && out.size() != expand) {
    ThrowArg(env, op, name, "an integer or an array of " + std::to_string(expand) + " integers");
  }
  return out;
}
std::vector<int64_t> ArgIntList(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name,
                                size_t expand, std::vector<int64_t> dflt) {
  if (IsMissing(info, i)) {
    if (expand > 1 && dflt.size() == 1) dflt.assign(expand, dflt[0]);
    return dflt;
  }
  return ArgIntList(info, i, op, name, expand);
}
c10::optional<std::vector<int64_t>> ArgOptIntList(const Napi::CallbackInfo& info, size_t i, const char* op,
                                                  const char* name, size_t expand) {
  if (IsMissing(info, i)) return c10::nullopt;
  return ArgIntList(info, i, op, name, expand);
}
c10::optional<std::vector<double>> ArgOptDoubleList(const Napi::CallbackInfo& info, size_t i, const char* op,
                                                    const char* name) {
  if (IsMissing(info, i)) return c10::nullopt;
  Napi::Env env = info.Env();
  if (info[i].IsNumber()) return std::vector<double>{info[i].As<Napi::Number>().DoubleValue()};
  if (!info[i].IsArray()) ThrowArg(env, op, name, "a number array");
  Napi::Array arr = info[i].As<Napi::Array>();
  std::vector<double> out(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); k++) out[k] = ToDouble(env, arr[k], op, name);
  return out;
}

at::ScalarType ParseDtype(Napi::Env env, const std::string& s, const char* op) {
  if (s == "float32" || s == "float") return at::kFloat;
  if (s == "float64" || s == "double") return at::kDouble;
  if (s == "int64" || s == "long") return at::kLong;
  if (s == "int32" || s == "int") return at::kInt;
  if (s == "int16") return at::kShort;
  if (s == "int8") return at::kChar;
  if (s == "uint8") return at::kByte;
  if (s == "bool") return at::kBool;
  if (s == "float16" || s == "half") return at::kHalf;
  if (s == "bfloat16") return at::kBFloat16;
  throw Napi::TypeError::New(env, std::string(op) + ": unknown dtype '" + s +
                                      "' (expected float32, float64, int64, int32, int16, int8, uint8, bool, float16 or bfloat16)");
}

const char* DtypeName(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "float32";
    case at::kDouble: return "float64";
    case at::kLong: return "int64";
    case at::kInt: return "int32";
    case at::kShort: return "int16";
    case at::kChar: return "int8";
    case at::kByte: return "uint8";
    case at::kBool: return "bool";
    case at::kHalf: return "float16";
    case at::kBFloat16: return "bfloat16";
    default: return c10::toString(t);
  }
}

c10::Device ParseDevice(Napi::Env env, const std::string& s, const char* op) {
  try {
    return c10::Device(s);
  } catch (const c10::Error&) {
    throw Napi::TypeError::New(env, std::string(op) + ": unknown device '" + s + "' (expected 'cpu', 'cuda' or 'cuda:N')");
  }
}

std::string DeviceName(const c10::Device& d) { return d.str(); }

c10::optional<at::ScalarType> ArgOptDtype(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  if (IsMissing(info, i)) return c10::nullopt;
  if (!info[i].IsString()) ThrowArg(info.Env(), op, name, "a dtype string such as 'float32'");
  return ParseDtype(info.Env(), info[i].As<Napi::String>().Utf8Value(), op);
}

at::TensorOptions ArgOptions(const Napi::CallbackInfo& info, size_t i, const char* op) {
  at::TensorOptions opts;  // no dtype: libtorch's default (float32) or the `like` tensor's
  if (IsMissing(info, i)) return opts;
  Napi::Env env = info.Env();
  if (!info[i].IsObject()) ThrowArg(env, op, "options", "an object {dtype?, device?, requiresGrad?}");
  Napi::Object o = info[i].As<Napi::Object>();
  Napi::Value dtype = o.Get("dtype");
  if (!dtype.IsUndefined() && !dtype.IsNull()) {
    if (!dtype.IsString()) ThrowArg(env, op, "options.dtype", "a dtype string such as 'float32'");
    opts = opts.dtype(ParseDtype(env, dtype.As<Napi::String>().Utf8Value(), op));
  }
  Napi::Value device = o.Get("device");
  if (!device.IsUndefined() && !device.IsNull()) {
    if (!device.IsString()) ThrowArg(env, op, "options.device", "a device string such as 'cpu' or 'cuda:0'");
    opts = opts.device(ParseDevice(env, device.As<Napi::String>().Utf8Value(), op));
  }
  return opts;
}

at::Tensor ApplyRequiresGrad(const Napi::CallbackInfo& info, size_t i, at::Tensor t) {
  if (IsMissing(info, i) || !info[i].IsObject()) return t;
  Napi::Value rg = info[i].As<Napi::Object>().Get("requiresGrad");
  if (rg.IsBoolean() && rg.As<Napi::Boolean>().Value()) t.requires_grad_(true);
  return t;
}

}  // namespace hcc
