# DSS's DMLtest (no smoothing) on DSS-format count files: the reference that
# `betagibbs bench --sheet ... --dss` times in the same run (the binary embeds this file).
# Needs R and Bioconductor's DSS (Debian: apt-get install r-bioc-dss).
# Usage: Rscript dss_dmltest.R GROUP1_FILES GROUP2_FILES NCORES   (files comma-separated)
# Prints one line, "dss_dmltest sites <n> seconds <s>": DMLtest's own time, without reading
# the files or building the BSseq object (so the ratio is in DSS's favour).
suppressPackageStartupMessages(library(DSS))
args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 3) stop("usage: Rscript dss_dmltest.R GROUP1_FILES GROUP2_FILES NCORES")
g1 <- strsplit(args[1], ",")[[1]]
g2 <- strsplit(args[2], ",")[[1]]
ncores <- as.integer(args[3])
files <- c(g1, g2)
samples <- c(paste0("A", seq_along(g1)), paste0("B", seq_along(g2)))
dat <- lapply(files, function(f) {
  d <- read.table(f, header = TRUE)
  if (!all(c("chr", "pos", "N", "X") %in% names(d))) {
    stop(sprintf("%s: not DSS's format (a header 'chr pos N X')", f))
  }
  d
})
bs <- makeBSseqData(dat, samples)
start <- proc.time()[["elapsed"]]
# capture.output swallows DMLtest's progress bar.
invisible(capture.output(res <- suppressMessages(DMLtest(bs,
  group1 = samples[seq_along(g1)], group2 = samples[-seq_along(g1)],
  smoothing = FALSE, ncores = ncores))))
seconds <- proc.time()[["elapsed"]] - start
cat(sprintf("dss_dmltest sites %d seconds %.3f\n", nrow(res), seconds))
