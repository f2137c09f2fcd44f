"""A short load test of the reading API on 127.0.0.1: many requests in parallel, none lost.

Starts `digitlab serve` (the shipped model) in its own process on a free local port, so that
the client's threads do not compete with the server for the GIL; for each way of sending a
digit (a real test digit: as 28x28 `pixels`; as a 280x280 canvas PNG in a data URL, as the draw
page sends it; as a 1200x1600 phone-photo JPEG to /api/predict/picture, as an opened file is
sent) sends a bounded number of requests, first one at a time, then from several threads, and
reports latency percentiles and throughput. Every answer carries the full reading (saliency
of every class included). Prints a table and writes JSON. Never leaves 127.0.0.1.

    python benchmarks/web_load.py [--requests 400] [--concurrency 32] [--ways pixels png]
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


def requests_by_way() -> dict[str, tuple[str, dict]]:
    """way -> (path, httpx2 keyword arguments) of one request carrying the first test digit."""
    from digitlab.imaging.photo_like import phone_photo

    digit = load_dataset("mnist-10k").x_test[0]
    canvas = io.BytesIO()
    Image.fromarray(digit).resize((280, 280)).save(canvas, format="PNG")
    photo = io.BytesIO()
    phone_photo(digit, np.random.default_rng(0)).resize((1200, 1600)).save(photo, "JPEG")
    png = "data:image/png;base64," + base64.b64encode(canvas.getvalue()).decode()
    return {
        "pixels": ("/api/predict", {"json": {"pixels": (digit / 255).round(4).tolist()}}),
        "png": ("/api/predict", {"json": {"image": png}}),
        "photo": (
            "/api/predict/picture",
            {"content": photo.getvalue(), "headers": {"Content-Type": "image/jpeg"}},
        ),
    }


#: what each way sends, for the table
WAYS = {
    "pixels": "28x28 pixels as JSON",
    "png": "280x280 canvas PNG (data URL)",
    "photo": "1200x1600 photo JPEG (body)",
}


def wait_for_server(port: int, deadline: float) -> None:
    while True:
        try:
            httpx2.get(f"http://127.0.0.1:{port}/", timeout=1)
            return
        except httpx2.TransportError:
            if time.monotonic() > deadline:
                raise SystemExit("the server did not start") from None
            time.sleep(0.1)


def measure(port: int, path: str, request: dict, args, deadline: float) -> dict:
    """Time `--sequential` requests one at a time, then `--requests` from `--concurrency`
    threads; the latencies and throughput as a row."""
    url = f"http://127.0.0.1:{port}{path}"
    with httpx2.Client(timeout=30) as client:
        alone = []
        for _ in range(args.sequential):
            start = time.perf_counter()
            client.post(url, **request).raise_for_status()
            alone.append(time.perf_counter() - start)
    local = threading.local()

    def one(_: int) -> tuple[int, float]:
        if time.monotonic() > deadline:
            return 0, 0.0
        if not hasattr(local, "client"):
            local.client = httpx2.Client(timeout=30)
        start = time.perf_counter()
        response = local.client.post(url, **request)
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
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--ways", nargs="+", choices=list(WAYS), default=list(WAYS))
    parser.add_argument("--sequential", type=int, default=20)
    parser.add_argument("--json", default=str(ROOT / "benchmarks/results/web_load.json"))
    args = parser.parse_args()

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "digitlab", "serve", "--port", str(port), "--runs", ROOT / "runs"],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + TIME_LIMIT_S * len(args.ways)
    rows = {}
    try:
        wait_for_server(port, deadline)
        requests = requests_by_way()
        for way in args.ways:
            path, request = requests[way]
            rows[way] = {"path": path, **measure(port, path, request, args, deadline)}
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"the reading API on 127.0.0.1, {args.requests} requests, {args.concurrency} in parallel")
    print(
        f"{'sent as':32} {'alone ms':>9} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'lost':>5}"
    )
    for way, row in rows.items():
        print(
            f"{WAYS[way]:32} {row['alone_median_ms']:9.1f} {row['requests_per_s']:7.0f} "
            f"{row['p50_ms']:8.1f} {row['p95_ms']:8.1f} {row['p99_ms']:8.1f} {row['lost']:5d}"
        )
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "web_load",
        "digitlab_version": digitlab.__version__,
        "numpy": np.__version__,
        "ways": rows,
    }
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {out}")
    lost = sum(row["lost"] for row in rows.values())
    if lost:
        raise SystemExit(f"{lost} requests were lost")


if __name__ == "__main__":
    main()
