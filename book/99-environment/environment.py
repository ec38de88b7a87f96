# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Environment
#
# Every number and figure in this book is a stored output: what the code printed when it last ran.
# This page records the software those outputs were made with — Python, the two frameworks and
# the tools that execute, check and publish the notebooks — and how to rebuild that environment.
#
# The page is itself a notebook, executed with the chapters. CI re-executes it under strict nbval
# together with every chapter, so the versions below are compared, on every run, with the ones
# actually installed: if any package differs from the one that made the outputs, this page's check
# fails and names it. A unit test (`tests/test_environment_page.py`) also checks that each version
# shown here is the one `constraints.txt` pins.
#
# **Seed rows covered:** none; this page serves every chapter.

# %% tags=["parameters"]
frameworks: str = "tf,torch"  # the frameworks to show
seed: int = 0  # the seed of the random draws shown

# %%
import importlib.metadata
import platform

import numpy as np
import pandas as pd

import lrlab

P = lrlab.validate(globals(), frameworks=lrlab.Frameworks(), seed=lrlab.Int(0, 2**32 - 1))
FW = P.frameworks
backends = lrlab.load_backends(FW)  # imports only these frameworks

# %% [markdown]
# ## Versions
#
# The exact versions installed when the stored outputs were made. `tensorflow-cpu` and `keras` are
# shown when the page runs with TensorFlow, `torch` when it runs with PyTorch.

# %%
PACKAGES = {
    "numerics": ["numpy", "pandas", "matplotlib", "scikit-learn"],
    "tf": ["tensorflow-cpu", "keras"],
    "torch": ["torch"],
    "search and sweeps": ["optuna", "dask", "distributed"],
    "notebooks": ["ipython", "ipykernel", "nbformat", "nbclient",
                  "papermill", "jupytext", "jupyterlab"],
    "site": ["jupyter-book", "sphinx", "myst-nb", "myst-parser",
             "sphinx-book-theme", "pydata-sphinx-theme",
             "sphinxcontrib-bibtex", "sphinx-mathjax-offline", "docutils"],
    "tests": ["pytest", "pytest-xdist", "nbval", "hypothesis", "selenium"],
}

# %%
shown = {role: names for role, names in PACKAGES.items()
         if role not in ("tf", "torch") or role in FW}
rows = [("python", "Python", platform.python_version()),
        ("lrlab", "lrlab", lrlab.__version__)]
rows += [(role, name, importlib.metadata.version(name))
         for role, names in shown.items() for name in names]
versions = pd.DataFrame(rows, columns=["role", "package", "version"])
print(f"platform: {platform.system()} {platform.machine()}")
versions.set_index(["role", "package"])

# %% tags=["remove-output"]
# hidden on the site (the table above shows it); read by tests/test_environment_page.py
lrlab.record("environment:versions",
             dict(zip(versions["package"], versions["version"])))

# %% [markdown]
# ## Random streams and determinism
#
# The book draws initial weights in numpy, so that both frameworks start from the same numbers,
# and seeds each framework's own generator as well. Below are the first draws of each generator
# after `lrlab.seed_everything(seed)`, and the thread pools each framework runs with.
# `lrlab.determinism` switches on deterministic kernels (TensorFlow's op determinism, PyTorch's
# deterministic algorithms) and fixes the thread count, because sums split over a different
# number of threads are added in a different order. If these numbers differ on your machine,
# your generators differ from the ones that made the book's outputs, and reruns will not match.

# %%
lrlab.seed_everything(seed, FW)
print(f"first draws after lrlab.seed_everything({seed}):")
print(f"numpy      np.random.rand(3):     {np.round(np.random.rand(3), 6)}")
if "tf" in FW:
    tf = backends["tf"].tf
    draws = tf.random.uniform((3,)).numpy()
    print(f"tensorflow tf.random.uniform((3,)): {np.round(draws, 6)}")
    threading = tf.config.threading
    print(f"tensorflow threads: intra-op {threading.get_intra_op_parallelism_threads()},"
          f" inter-op {threading.get_inter_op_parallelism_threads()}")
if "torch" in FW:
    torch = backends["torch"].torch
    print(f"torch      torch.rand(3):         {np.round(torch.rand(3).numpy(), 6)}")
    print(f"torch threads: {torch.get_num_threads()}, deterministic algorithms: "
          f"{torch.are_deterministic_algorithms_enabled()}")

# %% [markdown]
# ## Rebuilding this environment
#
# **With pip** (Python `3.11`, what CI does): `make setup` creates `.venv` and installs the package
# with every pin:
#
# ```bash
# python3.11 -m venv .venv
# .venv/bin/python -m pip install -c constraints.txt -e ".[all]"
# ```
#
# `pyproject.toml` gives each direct dependency a range, so that lrlab installs beside other
# packages; `constraints.txt` is the exact lock of everything, made by one command
# (`make lock`, which runs `scripts/lock.sh`), and a test checks that the lock satisfies the ranges.
# A reader who needs only one framework installs the extras they want, for example
# `-e ".[torch,book,test]"`, and runs the book with `make book FRAMEWORKS=torch`.
#
# **With conda**: `environment.yml` names the same direct dependencies at the lock's versions (a
# test checks that the files agree):
#
# ```bash
# conda env create -f environment.yml
# conda activate lrlab
# ```
#
# **The browser test** of the site (`tests/test_browser.py`) drives Debian's Chromium and
# ChromeDriver (`apt-get install chromium chromium-driver`; `make test` installs them when they
# are missing). Nothing else is downloaded: data sets are generated or shipped with scikit-learn,
# and the site serves its own copy of MathJax.
#
# **Checking it**: `make test` re-executes every notebook, this one included, under strict nbval.
# To check only the environment, run
# `.venv/bin/python -m pytest --nbval book/99-environment --sanitize-with tests/sanitize.cfg`.
