// libtorch's (legacy, CPU) autograd profiler: every dispatched op, forward and backward, with its self and total
// CPU time, aggregated by name as torch.autograd.profiler's key_averages() does, so that a step can be compared
// op by op with python3-torch.
#include "common.h"

#include <torch/csrc/autograd/profiler_legacy.h>

#include <map>

namespace hcc {

namespace {

namespace prof = torch::autograd::profiler;

struct OpStats {
  int64_t count = 0;
  double selfUs = 0, totalUs = 0;
};

Napi::Value ProfilerStart(const Napi::CallbackInfo& info) {
  return Guard(info, "profiler.start", [&]() -> Napi::Value {
    prof::enableProfilerLegacy(torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU));
    return info.Env().Undefined();
  });
}

// Pairs each thread's push/pop ranges as a stack; self time = total minus the totals of the ranges nested inside.
Napi::Value ProfilerStop(const Napi::CallbackInfo& info) {
  return Guard(info, "profiler.stop", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    prof::thread_event_lists lists = prof::disableProfilerLegacy();
    std::map<std::string, OpStats> stats;
    for (const auto& events : lists) {
      struct Open {
        const prof::LegacyEvent* push;
        double childUs;
      };
      std::vector<Open> stack;
      for (const auto& e : events) {
        if (e.kind() == prof::EventKind::PushRange) {
          stack.push_back({&e, 0});
        } else if (e.kind() == prof::EventKind::PopRange && !stack.empty()) {
          Open open = stack.back();
          stack.pop_back();
          const double total = open.push->cpuElapsedUs(e);
          OpStats& s = stats[open.push->name()];
          s.count++;
          s.totalUs += total;
          s.selfUs += total - open.childUs;
          if (!stack.empty()) stack.back().childUs += total;
        }
      }
    }
    Napi::Array out = Napi::Array::New(env, stats.size());
    uint32_t i = 0;
    for (const auto& [name, s] : stats) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", name);
      o.Set("count", Napi::Number::New(env, static_cast<double>(s.count)));
      o.Set("selfUs", s.selfUs);
      o.Set("totalUs", s.totalUs);
      out.Set(i++, o);
    }
    return out;
  });
}

}  // namespace

void RegisterProfiler(Napi::Env env, Napi::Object exports) {
  exports.Set("profilerStart", Napi::Function::New<ProfilerStart>(env, "profilerStart"));
  exports.Set("profilerStop", Napi::Function::New<ProfilerStop>(env, "profilerStop"));
}

}  // namespace hcc
