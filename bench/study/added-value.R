# Does the PMN score add prognostic value to the clinical Cox model? Reads a finished study folder (synthetic
# cohorts, PMN stage present), refits on its IAT training split the study's selected clinical terms without and
# with the PMN risk score, and reports Harrell's and Uno's C on the test split with the paired difference; then the
# ceiling: the same model with the generator's true proliferative status P instead of the score.
# Run: Rscript bench/study/added-value.R STUDY_DIR   (needs R's survival; not part of CI; docs/paper-comparison.md)
library(survival)
st <- file.path(commandArgs(TRUE)[1], "stages")
cohort <- read.csv(file.path(st, "3-imaging/iat/cohort-with-crops.csv"))
scores <- read.csv(file.path(st, "4-pmn/scores_iat.csv"))
cases <- read.csv(file.path(st, "5-prognosis/cases.csv"))
truth <- read.csv(file.path(st, "1-cohorts/iat/truth.csv"))[, c("id", "P")]
d <- Reduce(function(a, b) merge(a, b, by = "id"), list(cohort, scores, cases, truth))
d$afp_log10 <- log10(pmax(d$afp_ng_ml, 1))  # as src/study/predictors.ts
d$pmn_score <- d$risk_score
train <- d[d$split == "train", ]; test <- d[d$split == "test", ]
clinical <- Surv(os_months, os_event) ~ afp_log10 + tumour_diameter_cm + tumour_count + albi_score + pvtt + ehs + ecog
m0 <- coxph(clinical, train)
m1 <- coxph(update(clinical, . ~ . + pmn_score), train)
mP <- coxph(update(clinical, . ~ . + P), train)
cat(sprintf("IAT train %d, test %d; study nomogram_lp vs this refit on test: r = %.6f\n", nrow(train), nrow(test),
  cor(predict(m1, newdata = test), test$nomogram_lp)))
cat(sprintf("training split: likelihood-ratio test for the PMN score p = %.3g; AIC %.1f -> %.1f\n",
  anova(m0, m1)$`Pr(>|Chi|)`[2], AIC(m0), AIC(m1)))
report <- function(m, label) {
  lp <- predict(m, newdata = test)
  h <- concordance(Surv(os_months, os_event) ~ lp, data = test, reverse = TRUE)
  u <- concordance(Surv(os_months, os_event) ~ lp, data = test, reverse = TRUE, timewt = "n/G2", ymax = 36)
  cat(sprintf("%-28s test Harrell C %.4f (SE %.4f), Uno C to 36 months %.4f (SE %.4f)\n", label, h$concordance,
    sqrt(h$var), u$concordance, sqrt(u$var)))
}
report(m0, "clinical"); report(m1, "clinical + PMN score"); report(mP, "clinical + true P (ceiling)")
paired <- function(a, b, label) {
  cc <- concordance(a, b, newdata = test)
  dc <- diff(cc$concordance); se <- sqrt(c(-1, 1) %*% cc$var %*% c(-1, 1))
  cat(sprintf("%-28s Harrell C difference %+.4f, SE %.4f, p %.3g\n", label, dc, se, 2 * pnorm(-abs(dc / se))))
}
paired(m0, m1, "PMN score added"); paired(m0, mP, "true P added")
