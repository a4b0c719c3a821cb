// Plain C++ libtorch reference for bench/conv3d.ts and bench/overhead.ts: the same conv3d forward/backward at
// U-Net shapes and the same per-op loops, with no JS in between. Built by bench/reference.ts with the flags of
// scripts/torch-config.mjs. Prints one JSON object.
//   reference conv <threads> <reps>      reference overhead <iterations>
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <ctime>
#include <vector>

using Clock = std::chrono::steady_clock;

// Process CPU time in ms: with 1 thread it measures the work done, which a loaded shared machine does not distort.
static double CpuMs() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

static double Best(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }

struct Shape {
  const char* name;
  int64_t n, cin, cout, d, h, w;
};

// Same list as bench/conv3d.ts.
static const Shape kShapes[] = {
    {"enc0 1->32 @64^3", 2, 1, 32, 64, 64, 64},
    {"enc1 32->32 @32^3", 2, 32, 32, 32, 32, 32},
    {"enc2 64->64 @16^3", 2, 64, 64, 16, 16, 16},
    {"bott 128->128 @8^3", 2, 128, 128, 8, 8, 8},
};

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: reference conv <threads> <reps> | reference overhead <iterations>\n");
    return 2;
  }
  std::string mode = argv[1];
  if (mode == "conv") {
    at::set_num_threads(std::atoi(argv[2]));
    int reps = std::atoi(argv[3]);
    at::manual_seed(0);
    std::printf("{\"threads\": %d, \"shapes\": [", at::get_num_threads());
    bool first = true;
    for (const Shape& s : kShapes) {
      at::Tensor x = at::randn({s.n, s.cin, s.d, s.h, s.w}).requires_grad_(true);
      at::Tensor w = (at::randn({s.cout, s.cin, 3, 3, 3}) * 0.1).requires_grad_(true);
      at::Tensor b = at::zeros({s.cout}).requires_grad_(true);
      std::vector<double> fwd, bwd, fwdCpu, bwdCpu;
      for (int r = 0; r < reps + 2; r++) {
        double c0 = CpuMs();
        auto t0 = Clock::now();
        at::Tensor y = at::conv3d(x, w, b, 1, 1);
        auto t1 = Clock::now();
        double c1 = CpuMs();
        at::Tensor g = at::ones_like(y);
        double c2 = CpuMs();
        auto t2 = Clock::now();
        y.backward(g);
        auto t3 = Clock::now();
        double c3 = CpuMs();
        x.mutable_grad().reset();
        w.mutable_grad().reset();
        b.mutable_grad().reset();
        if (r >= 2) {
          fwd.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
          bwd.push_back(std::chrono::duration<double, std::milli>(t3 - t2).count());
          fwdCpu.push_back(c1 - c0);
          bwdCpu.push_back(c3 - c2);
        }
      }
      std::printf("%s{\"name\": \"%s\", \"fwdMs\": %.4f, \"bwdMs\": %.4f, \"fwdCpuMs\": %.4f, \"bwdCpuMs\": %.4f}",
                  first ? "" : ", ", s.name, Best(fwd), Best(bwd), Best(fwdCpu), Best(bwdCpu));
      first = false;
    }
    std::printf("]}\n");
    return 0;
  }
  if (mode == "overhead") {
    at::set_num_threads(1);
    long iters = std::atol(argv[2]);
    at::Tensor a = at::ones({}), b = at::ones({});
    std::vector<double> inplace, fresh;
    for (int rep = 0; rep < 5; rep++) {
      auto t0 = Clock::now();
      for (long i = 0; i < iters; i++) a.add_(b);
      auto t1 = Clock::now();
      for (long i = 0; i < iters; i++) {
        at::Tensor c = at::add(a, b);
      }
      auto t2 = Clock::now();
      inplace.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / iters);
      fresh.push_back(std::chrono::duration<double, std::nano>(t2 - t1).count() / iters);
    }
    std::printf("{\"addInplaceNs\": %.1f, \"addNs\": %.1f}\n", Median(inplace), Median(fresh));
    return 0;
  }
  std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
  return 2;
}
