"""End to end in headless Chromium: draw a real test digit's strokes with the mouse, and read
what the page shows against `digitlab.predict` on the very same image."""

import base64
import contextlib
import copy
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
    folder = tmp_path_factory.mktemp("e2e") / "runs"
    shutil.copytree(runs_dir, folder)
    return folder


@contextlib.contextmanager
def running(app):
    """`app` served by uvicorn on a free port of 127.0.0.1, in a thread; yields its URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not instance.started:
        if time.monotonic() > deadline:
            pytest.fail("the server did not start within 20 s")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        instance.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def server(web_network, e2e_runs):
    from digitlab.web.app import create_app

    with running(create_app(web_network, e2e_runs)) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def csp_violations() -> list[str]:
    """The console's reports of what the Content-Security-Policy blocked, on every page."""
    return []


@pytest.fixture(scope="module")
def page(browser, csp_violations):
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.on("console", lambda message: _note_csp_violation(message.text, csp_violations))
    yield page
    page.close()


def _note_csp_violation(text: str, violations: list[str]) -> None:
    if "Content Security Policy" in text:
        violations.append(text)


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


def draw(page, pixels: np.ndarray) -> None:
    """Draw the digit's strokes on the page's pad with the mouse, and wait for the reading.
    (The waits are selectors: the pages' CSP forbids wait_for_function's string evaluation.)"""
    box = page.locator("#pad").bounding_box()
    scale = box["width"] / 28
    for x0, y0, x1, y1 in strokes(pixels, scale):
        page.mouse.move(box["x"] + x0, box["y"] + y0)
        page.mouse.down()
        page.mouse.move(box["x"] + x1, box["y"] + y1, steps=3)
        page.mouse.up()
    page.wait_for_selector("body[data-busy='0'] #answer:not([data-label=''])", timeout=15_000)


def test_drawing_a_digit_shows_what_digitlab_predict_says(
    server, page, web_network, digit, tmp_path
):
    from digitlab.imaging import predict

    pixels, label = digit
    page.goto(server + "/")
    draw(page, pixels)
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
    page.locator("tr[data-run='demo-run']", has_text="88.0%").wait_for(timeout=10_000)


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


def test_a_chinese_browser_gets_the_pages_in_chinese(server, browser, page):
    context = browser.new_context(locale="zh-CN")
    try:
        chinese = context.new_page()
        chinese.goto(server + "/")
        chinese.wait_for_selector("body[data-lang='zh']", timeout=10_000)
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
    page.wait_for_selector("body[data-lang='en']", timeout=10_000)
    assert page.locator("#draw-title").text_content() == "Draw a digit"


# -- hostile names: shown as text, never run ----------------------------------------------------

#: markup that runs a script where it is put in the page as HTML: it would set data-pwned
HOSTILE = '<img src=x onerror="document.body.dataset.pwned=1">'


def test_a_conv_net_shows_its_feature_maps_and_an_mlp_does_not(server, page, digit):
    from digitlab import SimpleConvNet
    from digitlab.web.app import create_app

    pixels, _ = digit
    page.goto(server + "/")
    draw(page, pixels)
    assert page.locator("#maps-part").is_hidden()  # a 784-64-10 network has no convolution
    net = SimpleConvNet(conv_param={"filter_num": 6, "filter_size": 5}, hidden_size=12, seed=0)
    net.metadata = {"classes": [str(i) for i in range(10)]}
    with running(create_app(net, None)) as url:
        page.goto(url + "/")
        draw(page, pixels)
        assert page.locator("#maps-part").is_visible()
        # six 24x24 maps in a 3x2 grid, one pixel apart
        size = page.evaluate(
            "[document.getElementById('maps').width, document.getElementById('maps').height]"
        )
        assert size == [3 * 25 - 1, 2 * 25 - 1]


@pytest.fixture(scope="module")
def hostile_server(web_network, tmp_path_factory):
    """A server whose model names every class, and whose runs folder names a run, with
    HOSTILE markup (a model file or a folder from anywhere may)."""
    from digitlab.web.app import create_app

    network = copy.copy(web_network)
    network.metadata = {"classes": [f"{i}{HOSTILE}" for i in range(10)]}
    runs = tmp_path_factory.mktemp("hostile") / "runs"
    (runs / HOSTILE).mkdir(parents=True)
    (runs / HOSTILE / "config.json").write_text(json.dumps({"note": HOSTILE}))
    with running(create_app(network, runs)) as url:
        yield url


def test_hostile_class_and_run_names_are_shown_as_text(hostile_server, page, digit):
    pixels, label = digit
    page.goto(hostile_server + "/")
    draw(page, pixels)
    assert page.locator("#answer").get_attribute("data-label") == f"{label}{HOSTILE}"
    names = page.locator("#bars li > span:first-child").all_text_contents()
    assert names == [f"{i}{HOSTILE}" for i in range(10)]
    page.goto(hostile_server + "/runs")
    page.wait_for_selector("#runs tr[data-run]", timeout=10_000)
    assert page.locator("#runs a").first.text_content() == HOSTILE
    assert page.locator("img").count() == 0
    assert page.locator("body[data-pwned]").count() == 0


def test_the_pages_break_no_rule_of_their_content_security_policy(
    server, page, digit, csp_violations
):
    """Every page this module opened ran under the CSP without being blocked once (an inline
    script or style would be); this test comes last in the module to see them all."""
    page.goto(server + "/")
    draw(page, digit[0])
    page.goto(server + "/runs")
    page.wait_for_selector("tr[data-run='demo-run']", timeout=10_000)
    assert csp_violations == []
