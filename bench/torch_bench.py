"""The benchmark's workloads in PyTorch (same shapes as bench/workloads.ts). Prints one JSON object:
{"torch": version, "blas": ..., "results": {key: {"ms": median, "threads": n}}}; for each workload the
better of 1 and 2 threads. Alone: python3 bench/torch_bench.py --rounds 5.
With --serve it stays alive for bench/torch_peer.ts (interleaved timing): it prints a hello line, then answers
one JSON line per request line on stdin: {"op": "time", "key": "W3", "threads": 1, "rounds": 5} gives
{"key": ..., "threads": ..., "ms": [per-round ms]}; {"op": "quit"} exits; a bad request gives {"error": ...}."""
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from blas_libs import mapped_blas_libraries

ROUNDS = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 5


class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        sizes = [(3, 64), (64, 128), (128, 256), (256, 256), (256, 512), (512, 512), (512, 512), (512, 512)]
        self.convs = nn.ModuleList(nn.Conv2d(i, o, 3, padding=1) for i, o in sizes)
        self.bns = nn.ModuleList(nn.BatchNorm2d(o) for _, o in sizes)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1)
        self.linear = nn.Linear(512, 10)

    def forward(self, x):
        for i, (c, b) in enumerate(zip(self.convs, self.bns)):
            x = F.relu(b(c(x)))
            if i in (0, 1, 3, 5, 7):
                x = self.pool(x)
        return self.linear(x.flatten(1))


def mlp(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i + 2 < len(sizes):
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def step_runner(model, opt, x, y):
    def run():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return run


def runner(key):
    torch.manual_seed(0)
    if key in ("W1", "W2"):
        model = mlp([3072, 100, 10] if key == "W1" else [3072, 200, 200, 100, 10])
        opt = torch.optim.SGD(model.parameters(), lr=1e-3) if key == "W1" else torch.optim.Adam(model.parameters(), lr=1e-3)
        return step_runner(model, opt, torch.randn(200, 3072), torch.randint(0, 10, (200,)))
    if key == "W3":
        model = ConvNet().train()
        return step_runner(model, torch.optim.Adam(model.parameters(), lr=1e-3), torch.randn(32, 3, 32, 32), torch.randint(0, 10, (32,)))
    if key == "W3e":
        model = ConvNet().eval()
        x = torch.randn(500, 3, 32, 32)

        def run():
            with torch.no_grad():
                model(x)
        return run
    if key == "W4":
        a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
        return lambda: torch.mm(a, b)
    if key == "W5":
        x, w = torch.randn(32, 128, 16, 16), torch.randn(128, 128, 3, 3)

        def run():
            with torch.no_grad():
                F.conv2d(x, w, padding=1)
        return run
    if key == "adam1m":
        # One Adam step (default hyper-parameters) on a 1 Mi-element float32 parameter: the fused.ts row.
        p = nn.Parameter(torch.randn(1 << 20))
        p.grad = torch.randn(1 << 20)
        opt = torch.optim.Adam([p])
        return opt.step
    if key == "bn2d":
        # BatchNorm2d forward + backward in training mode at the ConvNet's largest activation (first block, batch 32).
        bn = nn.BatchNorm2d(64).train()
        x = torch.randn(32, 64, 32, 32, requires_grad=True)
        w = torch.randn(32, 64, 32, 32)

        def run():
            bn.zero_grad()
            x.grad = None
            (bn(x) * w).sum().backward()
        return run
    if key.startswith("ce") and key[2:].replace("x", "", 1).isdigit():
        # Cross-entropy forward + backward on [N, C] float32 logits and class indices (key "ce<N>x<C>"),
        # repeated so one timing covers about 100 Ki logits (as bench/fused.ts does).
        n, c = (int(d) for d in key[2:].split("x"))
        x = torch.randn(n, c, requires_grad=True)
        y = torch.randint(0, c, (n,))
        reps = max(1, min(100, 100_000 // (n * c)))

        def run():
            for _ in range(reps):
                x.grad = None
                F.cross_entropy(x, y).backward()
        return run
    raise KeyError(key)


def round_ms(run, rounds):
    run()
    run()
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        run()
        times.append((time.perf_counter() - t) * 1000)
    return times


def median_ms(run, rounds):
    return statistics.median(round_ms(run, rounds))


def blas():
    """Which BLAS libraries the process loaded (bench/blas_libs.py)."""
    torch.mm(torch.randn(64, 64), torch.randn(64, 64))
    return mapped_blas_libraries()


def main():
    keys = [k for k in sys.argv[1:] if k.startswith("W")] or ["W1", "W2", "W3", "W3e", "W4", "W5"]
    results = {}
    for key in keys:
        best = None
        for threads in (1, 2):
            torch.set_num_threads(threads)
            ms = median_ms(runner(key), ROUNDS)
            if best is None or ms < best["ms"]:
                best = {"ms": ms, "threads": threads}
        results[key] = best
    print(json.dumps({"torch": torch.__version__, "blas": blas(), "results": results}))


def answer(request, runners):
    if request.get("op") != "time":
        raise ValueError(f"unknown op {request.get('op')!r}; expected 'time' or 'quit'")
    key, threads, rounds = request.get("key"), request.get("threads"), request.get("rounds")
    if threads not in (1, 2) or not isinstance(rounds, int) or rounds < 1:
        raise ValueError(f"time {key}: expected threads 1 or 2 and rounds >= 1, found threads={threads!r} rounds={rounds!r}")
    if key not in runners:
        try:
            runners[key] = runner(key)
        except KeyError:
            raise ValueError(f"time: unknown key {key!r}") from None
    warm_ms = request.get("warm_ms", 0)
    if not isinstance(warm_ms, (int, float)) or warm_ms < 0:
        raise ValueError(f"time {key}: expected warm_ms >= 0, found {warm_ms!r}")
    torch.set_num_threads(threads)
    run, times = runners[key], []
    # Untimed runs for warm_ms (at least one) per request, as bench/main.ts does before each of its bursts: a
    # thread-count switch or another framework's rounds in between leave the caches and thread pool cold.
    start = time.perf_counter()
    run()
    while (time.perf_counter() - start) * 1000 < warm_ms:
        run()
    for _ in range(rounds):
        t = time.perf_counter()
        run()
        times.append((time.perf_counter() - t) * 1000)
    return {"key": key, "threads": threads, "ms": times}


def serve():
    print(json.dumps({"hello": True, "torch": torch.__version__, "blas": blas()}), flush=True)
    runners = {}
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            if request.get("op") == "quit":
                return
            reply = answer(request, runners)
        except Exception as e:  # a bad request must not end the session
            reply = {"error": str(e)}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    serve() if "--serve" in sys.argv else main()
