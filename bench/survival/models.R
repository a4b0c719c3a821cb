## R side of bench/survival/models.ts: per-call CPU time (user + system) of the same survival-model primitives on the same CSV.
## Usage: Rscript bench/survival/models.R data.csv  -> JSON {name: seconds per call}
suppressPackageStartupMessages({ library(survival); library(jsonlite) })
d <- read.csv(commandArgs(trailingOnly = TRUE)[1], stringsAsFactors = TRUE)
cpu <- function(expr) { t <- system.time(expr); unname(t["user.self"] + t["sys.self"]) }
per_call <- function(f) {
  k <- 1
  repeat { t <- cpu(for (i in 1:k) f()); if (t >= 0.2 || k >= 4096) break; k <- k * 2 }
  median(sapply(1:3, function(r) cpu(for (i in 1:k) f()) / k))
}
res <- list(
  cox_efron = per_call(function() coxph(Surv(time, status) ~ dl_score + bclc + afp_log10 + trt, data = d)),
  cox_breslow = per_call(function() coxph(Surv(time, status) ~ dl_score + bclc + afp_log10 + trt, data = d, ties = "breslow")),
  cox_strata = per_call(function() coxph(Surv(time, status) ~ dl_score + afp_log10 + trt + strata(bclc), data = d)),
  cox_survfit_100rows = per_call(function() { f <- coxph(Surv(time, status) ~ dl_score + bclc + afp_log10 + trt, data = d); summary(survfit(f, newdata = d[1:100, ]), times = c(12, 24, 36), extend = TRUE) }),
  km_trt = per_call(function() survfit(Surv(time, status) ~ trt, data = d)),
  logrank_bclc = per_call(function() survdiff(Surv(time, status) ~ bclc, data = d)),
  logrank_trt_strata = per_call(function() survdiff(Surv(time, status) ~ trt + strata(bclc), data = d)),
  harrell_c = per_call(function() concordance(Surv(time, status) ~ dl_score, data = d, reverse = TRUE)),
  uno_c_tau36 = per_call(function() concordance(Surv(time, status) ~ dl_score, data = d, reverse = TRUE, timewt = "n/G2", ymax = 36))
)
cat(toJSON(res, auto_unbox = TRUE, digits = NA))
