# DSS's side of benches/design.py: DSS's general experimental design on a sample sheet,
# DMLfit.multiFactor(BSobj, design, formula) then DMLtest.multiFactor(fit, coef = C) for each
# coefficient C asked, written per site as a TSV for the Python side to compare with
# `betagibbs methyl SHEET --design FORMULA --coef C`.
# Needs R and Bioconductor's DSS (Debian: apt-get install r-bioc-dss).
#
# Usage: Rscript design_dss.R SHEET FORMULA COEFS OUT_PREFIX [smoothing]
#   SHEET    our sample sheet (CSV, or TSV when its header holds a tab): sample, file, group and
#            any covariate columns; files in DSS's format (header 'chr pos N X', plain or gz),
#            relative paths relative to the sheet. Every column but sample, file and format is
#            the design data frame; R types them (a numeric column stays numeric), and factor
#            levels are in R's default (sorted) order, so group HC/SLE gives groupSLE.
#   FORMULA  for example '~ group + cell'
#   COEFS    coefficient names of the model matrix, comma-separated, e.g. 'groupSLE,cellrN'
#   smoothing  optional literal word: DMLfit.multiFactor(smoothing = TRUE) (DSS's 500 bp
#            moving average of the levels). Without it smoothing is off, which is also DSS's
#            default for DMLfit.multiFactor (unlike DMLtest, whose default smooths).
#
# Writes:
#   OUT_PREFIX.sites.tsv   chr, pos, then per coefficient C: C.stat (DSS's Wald statistic,
#                          coefficient / its standard error), C.pvals, C.fdrs (Benjamini-
#                          Hochberg), in DSS's site order; NA where DSS could not test a site.
#   OUT_PREFIX.timing.tsv  step, seconds (elapsed): read (the files and makeBSseqData), fit
#                          (DMLfit.multiFactor), test.C (DMLtest.multiFactor per coefficient).
# Prints one line: "design_dss sites <n> fit_seconds <s> test_seconds <s> cores 1"
# (DMLfit.multiFactor has no ncores argument: it runs on one core).
suppressPackageStartupMessages(library(DSS))

args <- commandArgs(trailingOnly = TRUE)
if (!(length(args) %in% c(4, 5)) || (length(args) == 5 && args[5] != "smoothing")) {
  stop("usage: Rscript design_dss.R SHEET FORMULA COEFS OUT_PREFIX [smoothing]")
}
sheet_path <- args[1]
formula <- as.formula(args[2])
coefs <- strsplit(args[3], ",")[[1]]
prefix <- args[4]
smoothing <- length(args) == 5

timing <- data.frame(step = character(0), seconds = numeric(0))
timed <- function(step, expr) {
  start <- proc.time()[["elapsed"]]
  value <- expr # forced here, inside the timer
  timing[nrow(timing) + 1, ] <<- list(step, proc.time()[["elapsed"]] - start)
  value
}

first <- readLines(sheet_path, n = 1, warn = FALSE)
sep <- if (grepl("\t", first)) "\t" else ","
sheet <- read.table(sheet_path, header = TRUE, sep = sep, comment.char = "#",
  stringsAsFactors = FALSE, check.names = FALSE, quote = "\"")
if (!all(c("sample", "file", "group") %in% names(sheet))) {
  stop(sprintf("%s: a sample sheet needs the columns sample, file and group", sheet_path))
}
paths <- ifelse(startsWith(sheet$file, "/"), sheet$file,
  file.path(dirname(sheet_path), sheet$file))

bs <- timed("read", {
  dat <- lapply(paths, function(f) {
    d <- read.table(f, header = TRUE, colClasses = c("character", "numeric", "numeric", "numeric"))
    if (!all(c("chr", "pos", "N", "X") %in% names(d))) {
      stop(sprintf("%s: not DSS's format (a header 'chr pos N X')", f))
    }
    d
  })
  makeBSseqData(dat, sheet$sample)
})
design <- sheet[, setdiff(names(sheet), c("sample", "file", "format")), drop = FALSE]
rownames(design) <- sheet$sample

# DMLfit.multiFactor prints a progress line per 1,000 sites: capture.output swallows it.
fit <- timed("fit", {
  invisible(capture.output(f <- suppressMessages(DMLfit.multiFactor(bs, design = design,
    formula = formula, smoothing = smoothing))))
  f
})
known <- colnames(fit$X)
missing <- setdiff(coefs, known)
if (length(missing) > 0) {
  stop(sprintf("coefficient %s not in the model matrix (%s)", paste(missing, collapse = ", "),
    paste(known, collapse = ", ")))
}
out <- NULL
for (coef in coefs) {
  res <- timed(paste0("test.", coef), suppressMessages(DMLtest.multiFactor(fit, coef = coef)))
  res <- as.data.frame(res)
  # Older DSS names the columns pvals/fdrs, newer pval/fdr: write pvals and fdrs either way.
  if (!"pvals" %in% names(res)) res$pvals <- res$pval
  if (!"fdrs" %in% names(res)) res$fdrs <- res$fdr
  cols <- data.frame(res$stat, res$pvals, res$fdrs)
  names(cols) <- paste0(coef, c(".stat", ".pvals", ".fdrs"))
  if (is.null(out)) {
    out <- data.frame(chr = res$chr, pos = res$pos, check.names = FALSE)
  } else if (!identical(paste(out$chr, out$pos), paste(res$chr, res$pos))) {
    stop("DMLtest.multiFactor gave the coefficients' sites in different orders")
  }
  out <- cbind(out, cols)
}
write.table(out, sprintf("%s.sites.tsv", prefix), sep = "\t", quote = FALSE, row.names = FALSE)
write.table(timing, sprintf("%s.timing.tsv", prefix), sep = "\t", quote = FALSE,
  row.names = FALSE)
tests <- timing$seconds[startsWith(timing$step, "test.")]
cat(sprintf("design_dss sites %d fit_seconds %.3f test_seconds %.3f cores 1\n", nrow(out),
  timing$seconds[timing$step == "fit"], sum(tests)))
