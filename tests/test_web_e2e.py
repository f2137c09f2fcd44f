"""End to end in headless Chromium: draw a real test digit's strokes with the mouse, and read
what the page shows against `digitlab.predict` on the very same image."""

import base64
import io
import json
import shutil
import socket
import threading
import time

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("fastapi", reason="the web extra (fastapi, uvicorn) is not installed")
uvicorn = pytest.importorskip("uvicorn", reason="the web extra (uvicorn) is not installed")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip(
        "no Chromium on this machine (Debian: apt-get install chromium)", allow_module_level=True
    )

# As the machine's own probe starts it: no sandbox as root, no background network traffic.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def e2e_runs(runs_dir, tmp_path_factory):
    """A copy of the runs folder, which these tests change as a training run would."""
    copy = tmp_path_factory.mktemp("e2e") / "runs"
    shutil.copytree(runs_dir, copy)
    return copy


@pytest.fixture(scope="module")
def server(web_network, e2e_runs):
    from digitlab.web.app import create_app

    port = free_port()
    config = uvicorn.Config(
        create_app(web_network, e2e_runs), host="127.0.0.1", port=port, log_level="warning"
    )
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not instance.started:
        if time.monotonic() > deadline:
            pytest.fail("the server did not start within 20 s")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def page():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        yield page
        browser.close()


def strokes(pixels: np.ndarray, scale: float) -> list[tuple[float, float, float, float]]:
    """The digit as horizontal pen strokes: one per run of ink pixels in each row."""
    lines = []
    for row in range(28):
        ink = np.flatnonzero(pixels[row] > 0.5)
        if ink.size == 0:
            continue
        breaks = np.flatnonzero(np.diff(ink) > 1)
        for start, stop in zip(
            np.r_[ink[0], ink[breaks + 1]], np.r_[ink[breaks], ink[-1]], strict=True
        ):
            y = (row + 0.5) * scale
            lines.append(((start + 0.5) * scale, y, (stop + 0.5) * scale, y))
    return lines


def test_drawing_a_digit_shows_what_digitlab_predict_says(
    server, page, web_network, digit, tmp_path
):
    from digitlab.imaging import predict

    pixels, label = digit
    page.goto(server + "/")
    box = page.locator("#pad").bounding_box()
    scale = box["width"] / 28
    for x0, y0, x1, y1 in strokes(pixels, scale):
        page.mouse.move(box["x"] + x0, box["y"] + y0)
        page.mouse.down()
        page.mouse.move(box["x"] + x1, box["y"] + y1, steps=3)
        page.mouse.up()
    page.wait_for_function(
        "document.body.dataset.busy === '0' && document.getElementById('answer').dataset.label",
        timeout=15_000,
    )
    shown_label = page.locator("#answer").get_attribute("data-label")
    shown_probability = float(page.locator("#answer").get_attribute("data-probability"))
    drawn = page.evaluate("document.getElementById('pad').toDataURL('image/png')")
    image = Image.open(io.BytesIO(base64.b64decode(drawn.split(",", 1)[1])))
    expected = predict(web_network, image)
    assert shown_label == expected.top()[0][0] == str(label)
    assert shown_probability == pytest.approx(expected.top()[0][1], abs=1e-4)
    assert page.locator("#bars li").count() == 10
    page.screenshot(path=str(tmp_path / "draw.png"), full_page=True)
    assert (tmp_path / "draw.png").stat().st_size > 10_000

    page.keyboard.press("c")
    assert page.locator("#answer").text_content() == ""


def test_the_runs_page_shows_a_run_and_its_curves(server, page, e2e_runs):
    page.goto(server + "/runs")
    page.wait_for_selector("tr[data-run='demo-run']", timeout=10_000)
    assert "79.0%" in page.locator("tr[data-run='demo-run']").text_content()
    # a run still training gets its next epoch live
    history = json.loads((e2e_runs / "demo-run" / "history.json").read_text())
    history["train_acc"].append(0.9)
    history["test_acc"].append(0.88)
    (e2e_runs / "demo-run" / "history.json").write_text(json.dumps(history))
    page.wait_for_function(
        "document.querySelector(\"tr[data-run='demo-run']\").textContent.includes('88.0%')",
        timeout=10_000,
    )


def test_the_draw_page_fits_a_phone(server, page):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(server + "/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    page.set_viewport_size({"width": 1100, "height": 900})


def test_many_parallel_readings_none_lost(server, digit):
    """A short, bounded load test on 127.0.0.1 (benchmarks/web_load.py measures latency)."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx2

    payload = {"pixels": digit[0].tolist()}

    def one(_):
        with httpx2.Client(timeout=20) as client:
            return client.post(server + "/api/predict", json=payload).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(one, range(60)))
    assert statuses == [200] * 60


def test_a_chinese_browser_gets_the_pages_in_chinese(server, page):
    context = page.context.browser.new_context(locale="zh-CN")
    try:
        chinese = context.new_page()
        chinese.goto(server + "/")
        chinese.wait_for_function("document.body.dataset.lang === 'zh'", timeout=10_000)
        assert chinese.locator("#draw-title").text_content() == "写一个数字"
        assert chinese.locator("#clear").text_content() == "清除"
        assert chinese.title() == "digitlab · 手写数字"
        chinese.goto(server + "/runs")
        chinese.wait_for_selector("tr[data-run='demo-run']", timeout=10_000)
        assert "训练记录" in chinese.locator("#runs-title").text_content()
        assert "训练中" in chinese.locator("tr[data-run='demo-run']").text_content()
    finally:
        context.close()
    # and English stays English
    page.goto(server + "/")
    page.wait_for_function("document.body.dataset.lang === 'en'", timeout=10_000)
    assert page.locator("#draw-title").text_content() == "Draw a digit"
