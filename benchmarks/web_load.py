"""A short load test of `POST /api/predict` on 127.0.0.1: many requests in parallel, none lost.

Starts `digitlab serve` (the shipped model) in its own process on a free local port, so that
the client's threads do not compete with the server for the GIL; sends a bounded number of
requests (a real test digit drawn as a 280x280 PNG, as the page sends it), first one at a time,
then from several threads, and reports latency percentiles and throughput. Prints a table and
writes JSON. Never leaves 127.0.0.1.

    python benchmarks/web_load.py [--requests 400] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
import numpy as np
from PIL import Image

import digitlab
from digitlab.datasets import load_dataset

ROOT = Path(__file__).resolve().parents[1]
#: the whole test stops after this many seconds, whatever is left
TIME_LIMIT_S = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def drawing() -> dict:
    image = Image.fromarray(load_dataset("mnist-10k").x_test[0]).resize((280, 280))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return {"image": "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()}


def measure(port: int, args) -> dict:
    """Wait for the server, time `--sequential` requests one at a time, then `--requests` from
    `--concurrency` threads; the latencies and throughput as a row."""
    url = f"http://127.0.0.1:{port}/api/predict"
    payload = drawing()
    deadline = time.monotonic() + TIME_LIMIT_S
    while True:
        try:
            httpx2.get(f"http://127.0.0.1:{port}/", timeout=1)
            break
        except httpx2.TransportError:
            if time.monotonic() > deadline:
                raise SystemExit("the server did not start") from None
            time.sleep(0.1)
    with httpx2.Client(timeout=30) as client:
        alone = []
        for _ in range(args.sequential):
            start = time.perf_counter()
            client.post(url, json=payload).raise_for_status()
            alone.append(time.perf_counter() - start)
    local = threading.local()

    def one(_: int) -> tuple[int, float]:
        if time.monotonic() > deadline:
            return 0, 0.0
        if not hasattr(local, "client"):
            local.client = httpx2.Client(timeout=30)
        start = time.perf_counter()
        response = local.client.post(url, json=payload)
        return response.status_code, time.perf_counter() - start

    start = time.perf_counter()
    with ThreadPoolExecutor(args.concurrency) as pool:
        results = list(pool.map(one, range(args.requests)))
    wall = time.perf_counter() - start

    ok = [seconds for status, seconds in results if status == 200]
    lost = len(results) - len(ok)
    q = statistics.quantiles(ok, n=100) if len(ok) > 1 else [0.0] * 99
    return {
        "requests": len(results),
        "ok": len(ok),
        "lost": lost,
        "concurrency": args.concurrency,
        "wall_s": wall,
        "requests_per_s": len(ok) / wall,
        "p50_ms": 1000 * q[49],
        "p95_ms": 1000 * q[94],
        "p99_ms": 1000 * q[98],
        "max_ms": 1000 * max(ok, default=0.0),
        "alone_median_ms": 1000 * statistics.median(alone),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--sequential", type=int, default=20)
    parser.add_argument("--json", default=str(ROOT / "benchmarks/results/web_load.json"))
    args = parser.parse_args()

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "digitlab", "serve", "--port", str(port), "--runs", ROOT / "runs"],
        stdout=subprocess.DEVNULL,
    )
    try:
        row = measure(port, args)
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(
        f"POST /api/predict on 127.0.0.1, {row['requests']} requests, "
        f"{args.concurrency} in parallel"
    )
    lost = row["lost"]
    print(f"  one at a time: median {row['alone_median_ms']:.1f} ms")
    print(f"  answered {row['ok']}, lost {lost}, {row['requests_per_s']:.0f} requests/s")
    print(
        f"  latency p50 {row['p50_ms']:.1f} ms, p95 {row['p95_ms']:.1f} ms, "
        f"p99 {row['p99_ms']:.1f} ms, max {row['max_ms']:.1f} ms"
    )
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "benchmark": "web_load",
                "digitlab_version": digitlab.__version__,
                "numpy": np.__version__,
                **row,
            },
            indent=1,
        )
        + "\n"
    )
    print(f"wrote {out}")
    if lost:
        raise SystemExit(f"{lost} requests were lost")


if __name__ == "__main__":
    main()
