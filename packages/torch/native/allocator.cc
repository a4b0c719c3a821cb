// jemalloc, when the process runs under it (`hcc` preloads it): found with dlsym, so the addon neither links nor
// needs it, and everything here is a no-op under the system allocator.
//
// Why the addon touches it at all: libtorch's 3-D convolutions allocate a scratch buffer of tens to hundreds of MB per
// call. jemalloc 5.3 purges every freed extent of at least `oversize_threshold` bytes (8 MiB by default) at once,
// whatever the decay setting (extent.c, extent_may_force_decay), so the buffer's pages fault in again on every call:
// twice the CPU time of a segmentation. MALLOC_CONF=oversize_threshold:<large> lifts that, except in arena 0 (the
// main thread's, and every thread's with narenas:1), which jemalloc creates before it applies the option and which
// keeps 8 MiB. Loading the addon gives arena 0 the configured value, so the option means what it says.
#include <napi.h>

#include <dlfcn.h>
#include <sys/types.h>

#include <cstddef>
#include <mutex>

namespace hcc {

namespace {

using Mallctl = int (*)(const char*, void*, size_t*, void*, size_t);

Mallctl FindMallctl() {
  static const Mallctl mallctl = reinterpret_cast<Mallctl>(dlsym(RTLD_DEFAULT, "mallctl"));
  return mallctl;
}

template <typename T>
bool Read(Mallctl mallctl, const char* name, T* out) {
  size_t size = sizeof(T);
  return mallctl(name, out, &size, nullptr, 0) == 0 && size == sizeof(T);
}

void ApplyOversizeThresholdToArenaZero() {
  Mallctl mallctl = FindMallctl();
  if (!mallctl) return;
  size_t option = 0, arena0 = 0;
  // 0 means jemalloc rejected the configured value and disabled the oversize arena; arena 0 then keeps its default.
  if (!Read(mallctl, "opt.oversize_threshold", &option) || option == 0) return;
  if (!Read(mallctl, "arena.0.oversize_threshold", &arena0) || arena0 == option) return;
  mallctl("arena.0.oversize_threshold", nullptr, nullptr, &option, sizeof option);
}

// What the process runs under: {name: 'system'}, or jemalloc's version, page decay and oversize thresholds.
Napi::Value Allocator(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  Mallctl mallctl = FindMallctl();
  const char* version = nullptr;
  if (!mallctl || !Read(mallctl, "version", &version)) {
    o.Set("name", Napi::String::New(env, "system"));
    return o;
  }
  o.Set("name", Napi::String::New(env, "jemalloc"));
  o.Set("version", Napi::String::New(env, version));
  unsigned narenas = 0;
  if (Read(mallctl, "opt.narenas", &narenas)) o.Set("narenas", Napi::Number::New(env, narenas));
  ssize_t decay = 0;
  if (Read(mallctl, "arena.0.dirty_decay_ms", &decay)) o.Set("dirtyDecayMs", Napi::Number::New(env, static_cast<double>(decay)));
  if (Read(mallctl, "arena.0.muzzy_decay_ms", &decay)) o.Set("muzzyDecayMs", Napi::Number::New(env, static_cast<double>(decay)));
  size_t threshold = 0;
  if (Read(mallctl, "opt.oversize_threshold", &threshold)) o.Set("oversizeThreshold", Napi::Number::New(env, static_cast<double>(threshold)));
  if (Read(mallctl, "arena.0.oversize_threshold", &threshold)) {
    o.Set("arena0OversizeThreshold", Napi::Number::New(env, static_cast<double>(threshold)));
  }
  return o;
}

}  // namespace

void RegisterAllocator(Napi::Env env, Napi::Object exports) {
  static std::once_flag once;
  std::call_once(once, ApplyOversizeThresholdToArenaZero);
  exports.Set("allocator", Napi::Function::New<Allocator>(env, "allocator"));
}

}  // namespace hcc
