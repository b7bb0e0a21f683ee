#!/usr/bin/env python3
"""The assignment's default MLP job in NumPy: the reference the CLI's `train mlp-manual` is timed against.

Same algorithm as the CLI with its defaults: CIFAR-10 from the binary batches, mean-image preprocessing
(the per-pixel mean of the 50,000 training images subtracted, nothing else), one hidden layer of 100 ReLU
units, weights from N(0, 1e-4²) and zero biases, softmax + cross-entropy, plain SGD with learning rate 2e-3
on batches of 200 handed out in order (file order in the first epoch, a fresh permutation of the previous
order at each epoch's end, the partial tail dropped), 1,500 steps, and the whole test set evaluated every
100 steps (15 evaluations). float32 throughout, like the CLI (NumPy would silently promote to float64 if the
weights were left as `normal` returns them).

    python3 bench/numpy_mlp.py DATA_DIR [--steps N] [--seed S]

Prints one JSON line: seconds for load (read + preprocess), train (the SGD steps) and evaluate (all
evaluations), their sum as wall, the final test accuracy, and the BLAS NumPy runs on. Run it with
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (bench/main.ts does): see PLATFORM.md.
"""
import argparse
import json
import os
import time

import numpy as np

from blas_libs import mapped_blas_libraries

IMAGE_BYTES = 3072


def read_batch(path):
    raw = np.fromfile(path, dtype=np.uint8).reshape(-1, 1 + IMAGE_BYTES)
    return raw[:, 1:], raw[:, 0].astype(np.int64)


def blas_name():
    """The BLAS NumPy runs on: the BLAS libraries the process mapped (Debian's numpy links libblas.so.3, which
    update-alternatives points at the reference BLAS or OpenBLAS; numpy's build config names only "blas" either way),
    after threadpoolctl's summary where it is installed (it names OpenBLAS whenever libopenblas is loaded, also when
    only LAPACK comes from it, so bench/blas.ts reads the libblas.so path)."""
    np.ones((8, 8), dtype=np.float32) @ np.ones((8, 8), dtype=np.float32)  # loads the BLAS if it is not yet
    libs = mapped_blas_libraries()
    summary = ""
    try:
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            if pool.get("user_api") == "blas":
                summary = f"{pool.get('internal_api')} {pool.get('version', '')} ({pool.get('architecture', '?')}, {pool.get('num_threads')} threads)"
                break
    except ImportError:
        pass
    return ": ".join(part for part in (summary, libs) if part) or "unknown"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--eval_freq", type=int, default=100)
    parser.add_argument("--batch_size", type=int, default=200)
    parser.add_argument("--learning_rate", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    start = time.perf_counter()
    parts = [read_batch(os.path.join(args.data_dir, f"data_batch_{i}.bin")) for i in range(1, 6)]
    x_train_u8 = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    x_test_u8, y_test = read_batch(os.path.join(args.data_dir, "test_batch.bin"))
    mean = x_train_u8.mean(axis=0, dtype=np.float64).astype(np.float32)
    # One pass each, straight to float32. The first touch of these fresh 600 MB is most of the load time on a
    # virtual machine (≈2 s here): the job pays it, as the course's code does.
    x_train = np.subtract(x_train_u8, mean, dtype=np.float32)
    x_test = np.subtract(x_test_u8, mean, dtype=np.float32)
    load_s = time.perf_counter() - start

    rng = np.random.default_rng(args.seed)
    w1 = rng.normal(0, 1e-4, (IMAGE_BYTES, 100)).astype(np.float32)
    b1 = np.zeros(100, np.float32)
    w2 = rng.normal(0, 1e-4, (100, 10)).astype(np.float32)
    b2 = np.zeros(10, np.float32)

    def forward(x):
        h = x @ w1 + b1
        a = np.maximum(h, 0)
        s = a @ w2 + b2
        s -= s.max(axis=1, keepdims=True)
        e = np.exp(s)
        return h, a, e / e.sum(axis=1, keepdims=True)

    def evaluate():
        _, _, p = forward(x_test)
        loss = -np.log(np.maximum(p[np.arange(len(y_test)), y_test], 1e-30)).mean()
        return float(loss), float((p.argmax(axis=1) == y_test).mean())

    order = np.arange(len(y_train))
    at = 0
    train_s = eval_s = 0.0
    accuracy = loss = float("nan")
    batch = args.batch_size
    for step in range(1, args.steps + 1):
        t = time.perf_counter()
        if at + batch > len(order):
            order = order[rng.permutation(len(order))]
            at = 0
        idx = order[at:at + batch]
        at += batch
        x, y = x_train[idx], y_train[idx]
        h, a, p = forward(x)
        ds = p.copy()
        ds[np.arange(batch), y] -= 1
        ds /= batch
        dw2 = a.T @ ds
        db2 = ds.sum(axis=0)
        dh = (ds @ w2.T) * (h > 0)
        dw1 = x.T @ dh
        db1 = dh.sum(axis=0)
        w1 -= args.learning_rate * dw1
        b1 -= args.learning_rate * db1
        w2 -= args.learning_rate * dw2
        b2 -= args.learning_rate * db2
        train_s += time.perf_counter() - t
        if step % args.eval_freq == 0 or step == args.steps:
            t = time.perf_counter()
            loss, accuracy = evaluate()
            eval_s += time.perf_counter() - t

    print(json.dumps({
        "load_s": load_s,
        "train_s": train_s,
        "evaluate_s": eval_s,
        "wall_s": time.perf_counter() - start,
        "test_accuracy": accuracy,
        "test_loss": loss,
        "numpy": np.__version__,
        "blas": blas_name(),
    }))


if __name__ == "__main__":
    main()
