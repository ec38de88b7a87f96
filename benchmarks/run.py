"""Benchmark lrlab's training against what users write today, as ratios measured in one run (``make bench``).

Everything is timed in one process, on this machine, with one thread setting for both
frameworks (lrlab's: one thread, unless ``--threads`` says otherwise), each contender
warmed up once first and then timed ``--repeat`` times (best kept; a grid of sequential
fits is timed once, it is a sum of 64). Two clocks: wall seconds (``time.perf_counter``)
and this process's CPU seconds (``time.process_time``, all its threads) — on a machine
shared with other work the CPU time is the steadier measure of what each contender costs;
a ratio counts as met when both clocks reach the target:

(a) the seed-001 TensorFlow experiment (E001-1: Adam on a staircase exponential decay,
    100 epochs of batches of 32, 20 % held out) through the seed's own ``model.fit``
    (``benchmarks/seed001_keras.py``) versus ``lrlab.tf.fit`` — target ≥ 5×;
(b) the seed-001 PyTorch loop (E001-2: full batch in the stored row order, ``ExponentialLR``
    per epoch, 100 epochs; ``benchmarks/seed001_torch.py``) versus ``lrlab.torch.fit`` with
    ``shuffle=False`` — target ≥ 1×;
(c) a 64-LR grid (Adam, the seed-001 network, 800 training and 200 validation rows,
    batches of 32, 10 epochs, LRs ``logspace(-4, 0, 64)``): 64 sequential ``fit`` calls
    versus one ``fit_many`` in each framework (targets 30× torch, 10× TF), and 64 sequential
    Keras ``model.fit`` calls (``seed001_keras.fit_one``, what a user writes today) versus
    ``lrlab.tf.fit_many`` (target 50×);
(e) a 16-LR grid of the MNIST-1D CNN (``cnn()``, Greydanus & Kobak's, float64; Adam,
    3200 training and 800 validation rows, batches of 100, ``--cnn-epochs`` epochs, LRs
    ``logspace(-4, -1, 16)``): 16 sequential ``fit`` calls versus one ``fit_many`` in each
    framework (target 8×);
(d) the matrix-product FLOP/s each run of (c) achieved (forward, weight and input gradients
    of every training batch, forward of the validation set; element-wise work not counted)
    against a measured matmul peak of this machine (the best of a 2048² float32 product in
    each framework, at the same thread count), both from CPU time.

It prints a table and writes it as CSV (``--csv``, default ``bench-results/bench.csv``).
Timings on a shared machine move with its load: the load average before and after is
printed and stored; compare ratios, not seconds, and only within one run.

    .venv/bin/python benchmarks/run.py                # what `make bench` runs
    .venv/bin/python benchmarks/run.py --sequential 16   # time 16 of the 64 sequential fits, scale by 4
    .venv/bin/python benchmarks/run.py --sections e      # only the CNN grid (e)
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

SIZES = (20, 64, 32, 1)
TARGETS = {"a": 5.0, "b": 1.0, "c-torch": 30.0, "c-tf": 10.0, "c-keras": 50.0, "e-torch": 8.0, "e-tf": 8.0}


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="threads of both frameworks (lrlab's default: 1)")
    parser.add_argument("--repeat", type=int, default=2, help="timings of each single run; the best is kept")
    parser.add_argument("--models", type=int, default=64, help="LRs in the grid of (c)")
    parser.add_argument("--epochs", type=int, default=10, help="epochs of each model of (c)")
    parser.add_argument("--sequential", type=int, default=None,
                        help="time only this many of the sequential fits of (c), evenly spread, and scale up")
    parser.add_argument("--sections", default="abcde", help="which sections to run (letters of a-e; d needs c)")
    parser.add_argument("--cnn-models", type=int, default=16, help="LRs in the CNN grid of (e)")
    parser.add_argument("--cnn-epochs", type=int, default=3, help="epochs of each CNN of (e)")
    parser.add_argument("--csv", default=str(ROOT / "bench-results" / "bench.csv"))
    args = parser.parse_args(argv)
    if args.threads < 1 or args.repeat < 1 or args.models < 2 or args.epochs < 1:
        parser.error("--threads, --repeat, --epochs must be >= 1 and --models >= 2")
    if not args.sections or set(args.sections) - set("abcde") or ("d" in args.sections and "c" not in args.sections):
        parser.error("--sections takes letters of a-e; d needs c")
    if args.sequential is not None and not 1 <= args.sequential <= args.models:
        parser.error(f"--sequential must be in 1..{args.models}")
    return args


class Clock:
    """Wall and CPU seconds (``time.perf_counter``, ``time.process_time``: all of this process's threads)."""

    def __init__(self):
        gc.collect()
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def read(self, scale: float = 1.0) -> tuple:
        return ((time.perf_counter() - self.wall) * scale, (time.process_time() - self.cpu) * scale)


def timed(fn, repeat: int) -> tuple:
    """Return the best (wall, CPU) seconds of ``repeat`` calls of ``fn``, each best kept separately."""
    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        clock = Clock()
        fn()
        best = tuple(min(a, b) for a, b in zip(best, clock.read()))
    return best


def mlp_flops(sizes, n_train: int, n_val: int, epochs: int) -> float:
    """Return the matrix-product FLOPs of training one MLP: 2 per multiply-add.

    Per training row: forward ``2F``, weight gradients ``2F``, input gradients
    ``2(F − in·h₁)`` (none for the data), F = Σ fan_in·fan_out; per validation
    row the forward ``2F``.
    """
    macs = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    first = sizes[0] * sizes[1]
    return epochs * (n_train * (6 * macs - 2 * first) + n_val * 2 * macs)


def cnn_flops(spec, n_train: int, n_val: int, epochs: int) -> float:
    """Return the matrix-product FLOPs of training one CNN (im2col view), 2 per multiply-add.

    Each convolution j is a product of the patches ``(out_length_j, width_j·in_j)``
    with the kernel ``(width_j·in_j, out_j)``, the dense layer one of
    ``(1, flat)`` with ``(flat, classes)``; per training row forward, weight
    gradients and input gradients (none for the data) as in :func:`mlp_flops`.
    """
    lengths, ins = spec.lengths, (1, *spec.channels[:-1])
    macs = [lengths[j + 1] * spec.kernel_size[j] * ins[j] * spec.channels[j] for j in range(len(spec.channels))]
    macs.append(lengths[-1] * spec.channels[-1] * spec.classes)
    total = sum(macs)
    return epochs * (n_train * (6 * total - 2 * macs[0]) + n_val * 2 * total)


def cnn_products(spec, models: int, n_train: int, n_val: int, batch: int) -> list:
    """Return the matrix products of one ``fit_many`` epoch of M CNNs: ``(count, a_shape, b_shape)`` triples.

    As ``lrlab._torch_many`` computes them (im2col view): per training batch of b
    rows, convolution j multiplies its patches ``(M, b·out_length_j, width_j·in_j)``
    by the kernels ``(M, width_j·in_j, out_j)`` — the first layer's patches are the
    batch's own, one product ``(b·out_length_0, width_0) × (width_0, M·out_0)`` —
    and adds the kernel gradient ``patchesᵀ·dz`` and, after the first, the input
    gradient ``dz·kernelᵀ``; the dense layer likewise; each validation pass the
    forward products. Shapes are those of contiguous operands (transposes included).
    """
    lengths, ins = spec.lengths, (1, *spec.channels[:-1])
    rows_k_n = [(lengths[j + 1], spec.kernel_size[j] * ins[j], spec.channels[j]) for j in range(len(spec.channels))]
    rows_k_n.append((1, lengths[-1] * spec.channels[-1], spec.classes))
    full, last = divmod(n_train, batch)
    products = []
    for count, b, train in ((full, batch, True), (int(last > 0), last, True), (1, n_val, False)):
        for j, (rows, k, n) in enumerate(rows_k_n):
            r = b * rows
            products.append((count, (r, k), (k, models * n)) if j == 0 else (count, (models, r, k), (models, k, n)))
            if train:
                products.append((count, (models, k, r), (models, r, n)))
                if j:
                    products.append((count, (models, r, n), (models, n, k)))
    return [p for p in products if p[0] and all(p[1]) and all(p[2])]


def products_time(framework, products, repeat: int) -> tuple:
    """Return the best (wall, CPU) seconds of ``products`` (from :func:`cnn_products`), run eagerly in float64."""
    if framework.__name__ == "torch":
        operands = [(count, framework.rand(a, dtype=framework.float64), framework.rand(b, dtype=framework.float64))
                    for count, a, b in products]
    else:
        operands = [(count, framework.random.uniform(a, dtype="float64"), framework.random.uniform(b, dtype="float64"))
                    for count, a, b in products]

    def run():
        for count, a, b in operands:
            for _ in range(count):
                product = framework.matmul(a, b)
        float(product[..., 0, 0].numpy().sum())  # the result is read: nothing is left pending

    run()
    return timed(run, repeat)


def matmul_peak(torch, tf, repeat: int = 5, n: int = 2048, dtype: str = "float32") -> dict:
    """Return the best FLOP/s (per CPU second) of an n×n matrix product in each framework, in ``dtype``."""
    a = torch.randn(n, n, dtype=getattr(torch, dtype))
    b = tf.cast(tf.random.normal((n, n)), dtype)
    flops = 2.0 * n ** 3
    torch_time = timed(lambda: a @ a, repeat)[1]
    tf_time = timed(lambda: tf.matmul(b, b).numpy(), repeat)[1]
    return {"torch": flops / torch_time, "tf": flops / tf_time}


def main(argv=None) -> pd.DataFrame:
    args = parse(argv)
    from lrlab.determinism import configure_tensorflow, configure_torch

    tf, torch = configure_tensorflow(args.threads), configure_torch(args.threads)
    import seed001_keras
    import seed001_torch

    import lrlab
    from lrlab import many, schedules, training
    from lrlab.data import mnist1d, seed001_task

    backends = lrlab.load_backends("tf,torch")
    ltf, lpt = backends["tf"], backends["torch"]
    lrlab.seed_everything(0)  # Keras's shuffling needs a seed under TensorFlow's op determinism
    load_before = os.getloadavg()
    task = seed001_task()
    x, y = task.x_train, task.y_train
    train, val = training.holdout(x, y, 0.2)
    rows = []

    def row(key, item, framework, baseline, t_base, lrlab_name, t_lrlab, flops=None, note=""):
        ratio, cpu_ratio = t_base[0] / t_lrlab[0], t_base[1] / t_lrlab[1]
        rows.append({"key": key, "item": item, "framework": framework, "baseline": baseline,
                     "baseline_s": t_base[0], "lrlab": lrlab_name, "lrlab_s": t_lrlab[0], "ratio": ratio,
                     "baseline_cpu_s": t_base[1], "lrlab_cpu_s": t_lrlab[1], "cpu_ratio": cpu_ratio,
                     "target": TARGETS[key], "met": min(ratio, cpu_ratio) >= TARGETS[key], "flops": flops,
                     "note": note})
        print(f"  {item} [{framework}]: {t_base[0]:.2f} s vs {t_lrlab[0]:.2f} s wall -> {ratio:.1f}x; "
              f"CPU {t_base[1]:.2f} s vs {t_lrlab[1]:.2f} s -> {cpu_ratio:.1f}x", flush=True)

    print(f"lrlab benchmark: {args.threads} thread(s), load average {load_before[0]:.2f}", flush=True)
    # (a) seed 001, TensorFlow ------------------------------------------------------------
    if "a" in args.sections:
        decay = schedules.make("exponential", initial_lr=0.1, decay_steps=100, decay_rate=0.96, staircase=True)

        def lrlab_tf_seed(epochs=100):
            ltf.fit(ltf.mlp(SIZES), train, val, optimizer=ltf.optimizer("adam", decay), loss="binary_crossentropy",
                    epochs=epochs, batch_size=32)

        seed001_keras.seed_experiment(x, y, epochs=1)  # warm-up: TensorFlow's runtime, Keras's first compile
        lrlab_tf_seed(epochs=1)
        row("a", "seed-001 experiment, 100 epochs", "tf", "Keras model.fit (seed)",
            timed(lambda: seed001_keras.seed_experiment(x, y), args.repeat), "lrlab.tf.fit",
            timed(lrlab_tf_seed, args.repeat))

    # (b) seed 001, PyTorch ---------------------------------------------------------------
    if "b" in args.sections:
        per_epoch = schedules.make("exponential", initial_lr=0.1, decay_steps=1, decay_rate=0.96)

        def lrlab_torch_seed(epochs=100):
            lpt.fit(lpt.mlp(SIZES), (x, y), None, optimizer=lpt.optimizer("adam", per_epoch),
                    loss="binary_crossentropy", epochs=epochs, batch_size=None, schedule_unit="epoch",
                    shuffle=False)  # the seed's full batch keeps the stored row order

        seed001_torch.seed_experiment(x, y[:, 0], epochs=1)
        lrlab_torch_seed(epochs=1)
        row("b", "seed-001 experiment, 100 full-batch epochs", "torch", "PyTorch loop (seed)",
            timed(lambda: seed001_torch.seed_experiment(x, y[:, 0]), args.repeat), "lrlab.torch.fit",
            timed(lrlab_torch_seed, args.repeat))

    # (c) the LR grid ---------------------------------------------------------------------
    if "c" in args.sections:
        lrs = np.logspace(-4, 0, args.models)
        picked = (np.arange(args.models) if args.sequential is None
                  else np.unique(np.linspace(0, args.models - 1, args.sequential).round().astype(int)))
        scale = args.models / len(picked)
        note = "" if len(picked) == args.models else f"{len(picked)} of {args.models} fits timed, x{scale:g}"
        flops = args.models * mlp_flops(SIZES, len(train[0]), len(val[0]), args.epochs)
        grid_name = f"{args.models}-LR grid, {args.epochs} epochs"

        def sequential(fit_one):
            clock = Clock()
            for lr in lrs[picked]:
                fit_one(float(lr))
            return clock.read(scale)

        def fit_many(backend, models=args.models, epochs=args.epochs):
            backend.fit_many(backend.mlp(SIZES), train, val, optimizer="adam", loss="binary_crossentropy",
                             epochs=epochs, batch_size=32, configs=many.grid(lr=lrs[:models]))

        def fit_one(backend):
            return lambda lr: backend.fit(backend.mlp(SIZES), train, val, optimizer=backend.optimizer("adam", lr),
                                          loss="binary_crossentropy", epochs=args.epochs, batch_size=32)

        for name, backend in (("torch", lpt), ("tf", ltf)):
            fit_many(backend, models=2, epochs=1)  # warm-up
            batched = timed(lambda backend=backend: fit_many(backend), args.repeat)
            row(f"c-{name}", grid_name, name, f"{args.models} x lrlab.{name}.fit", sequential(fit_one(backend)),
                f"lrlab.{name}.fit_many", batched, flops, note)
            if name == "tf":
                seed001_keras.fit_one(0.01, train, val, epochs=1)
                row("c-keras", grid_name, "tf", f"{args.models} x Keras model.fit",
                    sequential(lambda lr: seed001_keras.fit_one(lr, train, val, args.epochs)),
                    "lrlab.tf.fit_many", batched, flops, note)

    # (e) the CNN grid on MNIST-1D ----------------------------------------------------------
    if "e" in args.sections:
        split = mnist1d()
        cnn_lrs = np.logspace(-4, -1, args.cnn_models)
        cnn_grid = f"{args.cnn_models}-LR CNN grid (MNIST-1D), {args.cnn_epochs} epochs"

        def cnn_many(backend, models=args.cnn_models, epochs=args.cnn_epochs):
            backend.fit_many(training.CNNSpec(), split.train, split.val, optimizer="adam",
                             loss="categorical_crossentropy", epochs=epochs, batch_size=100,
                             configs=many.grid(lr=cnn_lrs[:models]))

        def cnn_sequential(backend):
            clock = Clock()
            for lr in cnn_lrs:
                backend.fit(backend.cnn(), split.train, split.val, optimizer=backend.optimizer("adam", float(lr)),
                            loss="categorical_crossentropy", epochs=args.cnn_epochs, batch_size=100)
            return clock.read()

        products = [(count * args.cnn_epochs, a, b) for count, a, b in
                    cnn_products(training.CNNSpec(), args.cnn_models, len(split.train[0]), len(split.val[0]), 100)]
        peak64 = matmul_peak(torch, tf, dtype="float64")
        print("  float64 matmul peak (GFLOP per CPU second): "
              + ", ".join(f"{k} {v / 1e9:.1f}" for k, v in peak64.items()), flush=True)
        for name, backend in (("torch", lpt), ("tf", ltf)):
            cnn_many(backend, models=2, epochs=1)  # warm-up
            backend.fit(backend.cnn(), split.train, split.val, optimizer=backend.optimizer("adam", 1e-3),
                        loss="categorical_crossentropy", epochs=1, batch_size=100)
            batched = timed(lambda backend=backend: cnn_many(backend), args.repeat)
            flops = args.cnn_models * cnn_flops(training.CNNSpec(), len(split.train[0]), len(split.val[0]),
                                                args.cnn_epochs)
            sequential = cnn_sequential(backend)
            floor = products_time(torch if name == "torch" else tf, products, args.repeat)
            row(f"e-{name}", cnn_grid, name, f"{args.cnn_models} x lrlab.{name}.fit", sequential,
                f"lrlab.{name}.fit_many", batched, flops,
                f"fit_many's matrix products alone take {floor[0]:.2f} s wall, {floor[1]:.2f} s CPU: "
                f"ratio at most {sequential[0] / floor[0]:.1f}x wall, {sequential[1] / floor[1]:.1f}x CPU")
            print(f"    {rows[-1]['note']} (the single fit runs at {flops / sequential[1] / 1e9:.1f} GFLOP per CPU "
                  f"second, fit_many at {flops / batched[1] / 1e9:.1f}, its products alone at "
                  f"{flops / floor[1] / 1e9:.1f})", flush=True)

    # (d) FLOP/s against the machine's matmul peak --------------------------------------------
    peaks = matmul_peak(torch, tf) if "d" in args.sections else {"torch": np.nan, "tf": np.nan}
    peak = max(peaks.values())
    table = pd.DataFrame(rows)
    table["baseline_gflops"] = table.flops / table.baseline_cpu_s / 1e9
    table["lrlab_gflops"] = table.flops / table.lrlab_cpu_s / 1e9
    table["lrlab_peak_fraction"] = table.flops / table.lrlab_cpu_s / peak
    load_after = os.getloadavg()
    table["threads"] = args.threads
    table["peak_gflops"] = peak / 1e9
    table["load_before"], table["load_after"] = load_before[0], load_after[0]
    table["machine"] = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    table["versions"] = f"torch {torch.__version__}, tensorflow {tf.__version__}"
    path = Path(args.csv)
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False)

    shown = table[["key", "baseline", "baseline_s", "lrlab", "lrlab_s", "ratio", "baseline_cpu_s", "lrlab_cpu_s",
                   "cpu_ratio", "target", "met", "baseline_gflops", "lrlab_gflops", "lrlab_peak_fraction", "note"]]
    print()
    print(f"lrlab benchmark — {args.threads} thread(s) in both frameworks; load average {load_before[0]:.2f} "
          f"before, {load_after[0]:.2f} after; matmul peak {peak / 1e9:.1f} GFLOP/s "
          f"(torch {peaks['torch'] / 1e9:.1f}, tf {peaks['tf'] / 1e9:.1f}), {os.cpu_count()} CPUs")
    with pd.option_context("display.width", 250, "display.max_columns", 20, "display.max_colwidth", 40):
        print(shown.to_string(index=False, float_format=lambda v: f"{v:.3g}", na_rep=""))
    for key, item in zip(table.key, table.item):
        print(f"  {key}: {item}")
    print("ratio: baseline wall time / lrlab wall time; cpu_ratio: the same with this process's CPU time; met:"
          " both >= target; GFLOP/s from CPU time")
    print(f"\nCSV: {path}")
    return table


if __name__ == "__main__":
    main()
