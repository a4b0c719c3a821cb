// TorchScript inference: jit.load(path) -> ScriptModule with forward(). The only TU that includes torch/script.h
// (6.4 s to parse), so that edits elsewhere rebuild fast.
#include "common.h"

#include <torch/script.h>

namespace hcc {

namespace {

c10::IValue ToIValue(Napi::Env env, const Napi::Value& v, const char* op) {
  if (v.IsNull() || v.IsUndefined()) return c10::IValue();
  if (v.IsBoolean()) return c10::IValue(v.As<Napi::Boolean>().Value());
  if (v.IsNumber()) {
    at::Scalar s = ToScalar(env, v, op, "input");
    return s.isIntegral(false) ? c10::IValue(s.toLong()) : c10::IValue(s.toDouble());
  }
  if (v.IsString()) return c10::IValue(v.As<Napi::String>().Utf8Value());
  if (v.IsArray()) {
    Napi::Array arr = v.As<Napi::Array>();
    bool allTensors = arr.Length() > 0;
    std::vector<c10::IValue> items;
    for (uint32_t i = 0; i < arr.Length(); i++) {
      items.push_back(ToIValue(env, arr[i], op));
      allTensors = allTensors && items.back().isTensor();
    }
    if (allTensors) {
      c10::List<at::Tensor> list;
      for (auto& it : items) list.push_back(it.toTensor());
      return c10::IValue(list);
    }
    return c10::ivalue::Tuple::create(std::move(items));
  }
  return c10::IValue(UnwrapTensor(env, v, op, "input")->tensor);
}

Napi::Value FromIValue(Napi::Env env, const c10::IValue& v) {
  if (v.isTensor()) return Wrap(env, v.toTensor());
  if (v.isNone()) return env.Null();
  if (v.isBool()) return Napi::Boolean::New(env, v.toBool());
  if (v.isInt()) return Napi::Number::New(env, static_cast<double>(v.toInt()));
  if (v.isDouble()) return Napi::Number::New(env, v.toDouble());
  if (v.isString()) return Napi::String::New(env, v.toStringRef());
  if (v.isTuple() || v.isList() || v.isTensorList()) {
    std::vector<c10::IValue> items;
    if (v.isTuple()) items = v.toTupleRef().elements().vec();
    else items = v.toListRef().vec();
    Napi::Array arr = Napi::Array::New(env, items.size());
    for (size_t i = 0; i < items.size(); i++) arr.Set(static_cast<uint32_t>(i), FromIValue(env, items[i]));
    return arr;
  }
  if (v.isGenericDict()) {
    Napi::Object o = Napi::Object::New(env);
    for (const auto& kv : v.toGenericDict()) {
      std::string key = kv.key().isString() ? kv.key().toStringRef() : kv.key().tagKind();
      o.Set(key, FromIValue(env, kv.value()));
    }
    return o;
  }
  throw Napi::Error::New(env, std::string("jit: unsupported TorchScript output type ") + v.tagKind());
}

class ScriptModuleWrap : public Napi::ObjectWrap<ScriptModuleWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "ScriptModule",
                       {InstanceMethod<&ScriptModuleWrap::Forward>("forward"),
                        InstanceMethod<&ScriptModuleWrap::RunMethod>("runMethod"),
                        InstanceMethod<&ScriptModuleWrap::Eval>("eval"),
                        InstanceMethod<&ScriptModuleWrap::Train>("train"),
                        InstanceMethod<&ScriptModuleWrap::To>("to"),
                        InstanceMethod<&ScriptModuleWrap::NamedParameters>("namedParameters"),
                        InstanceMethod<&ScriptModuleWrap::NamedBuffers>("namedBuffers")});
  }

  explicit ScriptModuleWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ScriptModuleWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsExternal()) {
      throw Napi::TypeError::New(env, "ScriptModule cannot be constructed with `new`; use jit.load(path)");
    }
    module_ = std::move(*info[0].As<Napi::External<torch::jit::Module>>().Data());
  }

 private:
  torch::jit::Module module_;

  Napi::Value Call(const Napi::CallbackInfo& info, const std::string& method, size_t first) {
    Napi::Env env = info.Env();
    std::vector<c10::IValue> inputs;
    for (size_t i = first; i < info.Length(); i++) inputs.push_back(ToIValue(env, info[i], "forward"));
    return FromIValue(env, module_.get_method(method)(std::move(inputs)));
  }
  Napi::Value Forward(const Napi::CallbackInfo& info) {
    return Guard(info, "ScriptModule.forward", [&]() -> Napi::Value { return Call(info, "forward", 0); });
  }
  Napi::Value RunMethod(const Napi::CallbackInfo& info) {
    return Guard(info, "ScriptModule.runMethod", [&]() -> Napi::Value {
      return Call(info, ArgString(info, 0, "runMethod", "name"), 1);
    });
  }
  Napi::Value Eval(const Napi::CallbackInfo& info) {
    return Guard(info, "ScriptModule.eval", [&]() -> Napi::Value { module_.eval(); return info.This(); });
  }
  Napi::Value Train(const Napi::CallbackInfo& info) {
    return Guard(info, "ScriptModule.train", [&]() -> Napi::Value {
      module_.train(ArgBool(info, 0, "train", "mode", true));
      return info.This();
    });
  }
  Napi::Value To(const Napi::CallbackInfo& info) {
    return Guard(info, "ScriptModule.to", [&]() -> Napi::Value {
      module_.to(ParseDevice(info.Env(), ArgString(info, 0, "ScriptModule.to", "device"), "ScriptModule.to"));
      return info.This();
    });
  }
  template <typename Named>
  Napi::Value Entries(Napi::Env env, Named named) {
    Napi::Array arr = Napi::Array::New(env);
    uint32_t i = 0;
    for (const auto& item : named) {
      Napi::Array pair = Napi::Array::New(env, 2);
      pair.Set(0u, Napi::String::New(env, item.name));
      pair.Set(1u, Wrap(env, item.value));
      arr.Set(i++, pair);
    }
    return arr;
  }
  Napi::Value NamedParameters(const Napi::CallbackInfo& info) {
    return Guard(info, "ScriptModule.namedParameters", [&]() -> Napi::Value { return Entries(info.Env(), module_.named_parameters()); });
  }
  Napi::Value NamedBuffers(const Napi::CallbackInfo& info) {
    return Guard(info, "ScriptModule.namedBuffers", [&]() -> Napi::Value { return Entries(info.Env(), module_.named_buffers()); });
  }
};

// jitLoad(path, device?)
Napi::Value JitLoad(const Napi::CallbackInfo& info) {
  std::string path = ArgString(info, 0, "jit.load", "path");
  std::string op = "jit.load(" + path + ")";
  return Guard(info, op.c_str(), [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    c10::optional<std::string> device = ArgOptString(info, 1, "jit.load", "device");
    torch::jit::Module m = device ? torch::jit::load(path, ParseDevice(env, *device, "jit.load")) : torch::jit::load(path);
    m.eval();
    Napi::External<torch::jit::Module> ext = Napi::External<torch::jit::Module>::New(env, &m);
    return State(env).moduleCtor.New({ext});
  });
}

}  // namespace

void RegisterJit(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = ScriptModuleWrap::Define(env);
  State(env).moduleCtor = Napi::Persistent(ctor);
  exports.Set("ScriptModule", ctor);
  exports.Set("jitLoad", Napi::Function::New<JitLoad>(env, "jitLoad"));
}

}  // namespace hcc
