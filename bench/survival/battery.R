## R side of bench/survival/battery.ts: the full evaluation battery on the same CSV, each step's CPU time
## (user + system) and its numbers. Usage: Rscript bench/survival/battery.R data.csv B  -> JSON
## Packages: survival 3.5-3, riskRegression 2022.11.28, prodlim, pec 2022.05.04, pROC 1.18.0, maxstat 0.7-25.
suppressPackageStartupMessages({
  library(survival); library(riskRegression); library(prodlim); library(pec); library(pROC); library(maxstat); library(jsonlite)
})
a <- commandArgs(trailingOnly = TRUE)
d <- read.csv(a[1], stringsAsFactors = TRUE)
B <- as.integer(a[2])
times <- c(12, 24, 36)
cpu <- list(); out <- list()
step <- function(name, expr) { t <- system.time(v <- expr); cpu[[name]] <<- unname(t["user.self"] + t["sys.self"]); v }
fits <- step("cox", list(
  nomogram = coxph(Surv(time, status) ~ dl_score + bclc + afp_log10, data = d, x = TRUE, y = TRUE),
  staging = coxph(Surv(time, status) ~ bclc, data = d, x = TRUE, y = TRUE)))
out$cox_coef <- unname(coef(fits$nomogram))
risks <- step("predict", lapply(fits, function(f) 1 - t(matrix(summary(survfit(f, newdata = d), times = times, extend = TRUE)$surv, nrow = length(times)))))
sc <- step("score_auc_brier", Score(risks, formula = Hist(time, status) ~ 1, data = d, times = times, metrics = c("auc", "brier"),
            cens.model = "km", se.fit = TRUE, contrasts = TRUE, null.model = TRUE))
out$auc <- sc$AUC$score$AUC; out$auc_se <- sc$AUC$score$se
out$auc_contrast_p <- sc$AUC$contrasts$p
out$brier <- sc$Brier$score$Brier; out$brier_se <- sc$Brier$score$se
pe <- step("pec_ibs36", {
  p <- pec(fits, formula = Surv(time, status) ~ 1, data = d, times = 36, exact = TRUE, cens.model = "marginal",
           splitMethod = "none", reference = TRUE, verbose = FALSE)
  ibs(p, times = 36)
})
out$ibs36 <- unname(as.numeric(pe))
lp <- predict(fits$nomogram, type = "lp")
uno <- step("uno_c", concordance(Surv(d$time, d$status) ~ lp, reverse = TRUE, timewt = "n/G2", ymax = 36))
out$uno_c <- unname(uno$concordance); out$uno_se <- sqrt(unname(uno$var))
set.seed(1)
mk <- matrix(rep(d$dl_score, length(times)), ncol = length(times))
boot <- step("bootstrap_tdauc", t(sapply(seq_len(B), function(b) {
  i <- sample(nrow(d), replace = TRUE)
  s <- Score(list(dl = mk[i, ]), formula = Hist(time, status) ~ 1, data = d[i, ], times = times, metrics = "auc",
             cens.model = "km", se.fit = FALSE, null.model = FALSE)
  s$AUC$score$AUC
})))
out$boot_ci <- lapply(seq_along(times), function(k) unname(quantile(boot[, k], c(0.025, 0.975))))
keep <- (d$time <= 24 & d$status == 1) | d$time > 24
y <- as.integer(d$time[keep] <= 24 & d$status[keep] == 1)
dl <- step("delong", {
  r1 <- roc(response = y, predictor = d$dl_score[keep], levels = c(0, 1), direction = "<", quiet = TRUE)
  r2 <- roc(response = y, predictor = risks$nomogram[keep, 2], levels = c(0, 1), direction = "<", quiet = TRUE)
  roc.test(r1, r2, method = "delong", paired = TRUE)
})
out$delong_z <- unname(dl$statistic); out$delong_p <- dl$p.value
ms <- step("maxstat_lau94", maxstat.test(Surv(time, status) ~ dl_score, data = d, smethod = "LogRank", pmethod = "Lau94"))
out$maxstat <- c(unname(ms$statistic), unname(ms$estimate), ms$p.value)
cat(toJSON(list(cpu = cpu, values = out), auto_unbox = TRUE, digits = NA))
