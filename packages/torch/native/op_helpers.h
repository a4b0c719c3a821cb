// Small helpers used by generated op wrappers whose PyTorch (Python) behaviour differs from the plain at:: call.
#pragma once

#include <ATen/Functions.h>

namespace hcc {

// torch.arange(end) / arange(start, end, step); like Python, all-integer arguments give int64.
inline at::Tensor ArangeImpl(const at::Scalar& start, const c10::optional<at::Scalar>& end, const at::Scalar& step,
                             at::TensorOptions options) {
  at::Scalar lo = end ? start : at::Scalar(int64_t{0});
  at::Scalar hi = end ? *end : start;
  if (!options.has_dtype()) {
    bool integral = lo.isIntegral(false) && hi.isIntegral(false) && step.isIntegral(false);
    options = options.dtype(integral ? at::kLong : at::kFloat);
  }
  return at::arange(lo, hi, step, options);
}

}  // namespace hcc
