# DSS's side of benches/accuracy.py: DMLtest without and with smoothing on two groups of
# DSS-format count files, DSS's own DML and DMR calls, written as TSV tables for the Python
# side to score against the truth.
# Needs R and Bioconductor's DSS (Debian: apt-get install r-bioc-dss).
#
# Usage: Rscript accuracy_dss.R GROUP1_FILES GROUP2_FILES OUT_PREFIX   (files comma-separated)
#
# Writes, for MODE in nosmooth and smooth:
#   OUT_PREFIX.MODE.sites.tsv  chr, pos, mu1, mu2, diff, diff.se, stat, pvals, fdr,
#                              postprob.overThreshold: every site DMLtest tested. pvals and fdr are
#                              DMLtest's Wald test of diff = 0 (fdr: Benjamini-Hochberg);
#                              postprob.overThreshold = P(|diff| > DELTA) from callDML(delta = DELTA).
#   OUT_PREFIX.MODE.dmr.tsv    callDMR(delta = DELTA, p.threshold = DMR_P_THRESHOLD), DSS's other
#                              defaults (minlen 50, minCG 3, dis.merge 100, pct.sig 0.5); a header
#                              alone where DSS found none.
#   OUT_PREFIX.timing.tsv      step, seconds (elapsed) of each DSS call.
# Note DSS's diff is mu1 - mu2 (group 1 minus group 2).
suppressPackageStartupMessages(library(DSS))

DELTA <- 0.1 # the effect size callDML and callDMR test against (betagibbs's --threshold)
DMR_P_THRESHOLD <- 1e-5 # callDMR's p.threshold (DSS's default)

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 3) stop("usage: Rscript accuracy_dss.R GROUP1_FILES GROUP2_FILES OUT_PREFIX")
g1 <- strsplit(args[1], ",")[[1]]
g2 <- strsplit(args[2], ",")[[1]]
prefix <- args[3]
ncores <- parallel::detectCores()

files <- c(g1, g2)
samples <- c(paste0("A", seq_along(g1)), paste0("B", seq_along(g2)))
dat <- lapply(files, function(f) {
  d <- read.table(f, header = TRUE, colClasses = c("character", "numeric", "numeric", "numeric"))
  if (!all(c("chr", "pos", "N", "X") %in% names(d))) {
    stop(sprintf("%s: not DSS's format (a header 'chr pos N X')", f))
  }
  d
})
bs <- makeBSseqData(dat, samples)

timing <- data.frame(step = character(0), seconds = numeric(0))
timed <- function(step, expr) {
  start <- proc.time()[["elapsed"]]
  value <- expr # forced here, inside the timer
  timing[nrow(timing) + 1, ] <<- list(step, proc.time()[["elapsed"]] - start)
  value
}

write_tsv <- function(d, path) {
  write.table(d, path, sep = "\t", quote = FALSE, row.names = FALSE)
}

for (smooth in c(FALSE, TRUE)) {
  mode <- if (smooth) "smooth" else "nosmooth"
  # capture.output swallows DMLtest's progress bar.
  res <- timed(paste0("DMLtest.", mode), {
    invisible(capture.output(r <- suppressMessages(DMLtest(bs,
      group1 = samples[seq_along(g1)], group2 = samples[-seq_along(g1)],
      smoothing = smooth, ncores = ncores))))
    r
  })
  # Older DSS names the columns pvals/fdrs, newer pval/fdr: write pvals and fdr either way.
  res <- as.data.frame(res)
  if (!"pvals" %in% names(res)) res$pvals <- res$pval
  if (!"fdr" %in% names(res)) res$fdr <- res$fdrs
  # callDML with p.threshold = 1 keeps every row whose P(|diff| > DELTA) is above 0; the rows
  # it drops have a posterior probability of 0.
  dml <- timed(paste0("callDML.", mode), suppressWarnings(callDML(res, delta = DELTA, p.threshold = 1)))
  key <- paste(res$chr, res$pos)
  post <- dml$postprob.overThreshold[match(key, paste(dml$chr, dml$pos))]
  post[is.na(post)] <- 0
  sites <- data.frame(chr = res$chr, pos = res$pos, mu1 = res$mu1, mu2 = res$mu2,
    diff = res$diff, diff.se = res$diff.se, stat = res$stat, pvals = res$pvals,
    fdr = res$fdr, postprob.overThreshold = post, check.names = FALSE)
  write_tsv(sites, sprintf("%s.%s.sites.tsv", prefix, mode))

  dmr <- timed(paste0("callDMR.", mode), suppressWarnings(callDMR(res, delta = DELTA,
    p.threshold = DMR_P_THRESHOLD)))
  if (is.null(dmr)) {
    dmr <- data.frame(chr = character(0), start = integer(0), end = integer(0),
      length = integer(0), nCG = integer(0))
  }
  write_tsv(as.data.frame(dmr), sprintf("%s.%s.dmr.tsv", prefix, mode))
}
write_tsv(timing, sprintf("%s.timing.tsv", prefix))
cat(sprintf("accuracy_dss: %d cores, %s\n", ncores,
  paste(sprintf("%s %.2f s", timing$step, timing$seconds), collapse = ", ")))
