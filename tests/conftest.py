"""What the Python tests share: whether Rscript with Bioconductor's DSS is here."""

import shutil
import subprocess

import pytest


@pytest.fixture(scope="session")
def dss_available():
    """True when Rscript runs and loads DSS (the benchmarks' reference)."""
    if shutil.which("Rscript") is None:
        return False
    probe = subprocess.run(["Rscript", "-e", "suppressPackageStartupMessages(library(DSS))"],
                           capture_output=True)
    return probe.returncode == 0
