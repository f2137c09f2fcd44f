"""`digitlab serve` against hostile input: headers on every answer, the Host check, one error
shape, the drawing's decoding budget, a runs folder with bad files and links, slow bodies."""

import asyncio
import base64
import copy
import io
import json
import re
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile

pytest.importorskip("fastapi", reason="the web extra (fastapi) is not installed")
pytest.importorskip("httpx2", reason="FastAPI's test client needs httpx2")
from fastapi.testclient import TestClient

from digitlab import TwoLayerNet
from digitlab.errors import ModelFileError
from digitlab.web.app import STATIC, create_app
from digitlab.web.drawing import MAX_DRAWING_PIXELS
from digitlab.web.limits import BodySizeLimit
from digitlab.web.runs import MAX_JSON_BYTES
from digitlab.web.settings import LOOPBACK_HOSTS, allowed_hosts_for

LOCAL = "http://127.0.0.1:8000"


@pytest.fixture(scope="module")
def hostile_runs(runs_dir, tmp_path_factory):
    """The demo run, and beside it runs whose files are damaged, huge, or links out."""
    root = tmp_path_factory.mktemp("hostile")
    runs = root / "runs"
    runs.mkdir()
    (runs / "demo-run").symlink_to(runs_dir / "demo-run")  # a link in: not a run either
    outside = root / "outside"
    outside.mkdir()
    (outside / "history.json").write_text(json.dumps({"loss": [9.9], "train_acc": [0.5]}))
    (outside / "secret.txt").write_text("not for the web")
    (runs / "linked-out").symlink_to(outside, target_is_directory=True)
    histories = {
        "empty-list": "[]",
        "garbage": "\x00not json{",
        "strings": json.dumps({"train_acc": ["0.9"]}),
        "diverged": '{"loss": [2.3, NaN, Infinity], "train_acc": [0.1], "test_acc": [0.1]}',
        "deep": "[" * 100_000 + "]" * 100_000,  # past the parser's stack
    }
    for name, text in histories.items():
        (runs / name).mkdir()
        (runs / name / "history.json").write_text(text)
    (runs / "huge").mkdir()
    with (runs / "huge" / "history.json").open("wb") as file:  # sparse: no disk is used
        file.truncate(MAX_JSON_BYTES + 1)
    (runs / "nested-config").mkdir()
    (runs / "nested-config" / "config.json").write_text('{"a":' * 40 + "1" + "}" * 40)
    (runs / "history-link").mkdir()
    (runs / "history-link" / "history.json").symlink_to(outside / "history.json")
    return runs


@pytest.fixture(scope="module")
def client(web_network, hostile_runs):
    return TestClient(create_app(web_network, hostile_runs), base_url=LOCAL)


def data_url(image: Image.Image, format: str = "PNG") -> str:
    buffer = io.BytesIO()
    image.save(buffer, format=format)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


# -- the pages build their HTML from text ------------------------------------------------------


def test_the_scripts_never_parse_html():
    """Server values (class names, run names, errors) reach the DOM as text only."""
    parsing = re.compile(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(")
    for script in STATIC.glob("*.js"):
        found = parsing.findall(script.read_text(encoding="utf-8"))
        assert not found, f"{script.name} uses {found}"


def test_the_pages_have_no_inline_script_or_style():
    """What the CSP would block: inline scripts, style attributes, event handler attributes."""
    for page in STATIC.glob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert re.findall(r"<script(?![^>]*\ssrc=)", html) == [], page.name
        assert re.findall(r"<style|\sstyle=|\son[a-z]+=", html) == [], page.name


# -- headers on every answer -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", "/", {}, 200),
        ("GET", "/runs", {}, 200),
        ("GET", "/static/draw.js", {}, 200),
        ("GET", "/api/runs", {}, 200),
        ("GET", "/api/texts", {}, 200),
        ("GET", "/no-such-page", {}, 404),
        ("DELETE", "/api/predict", {}, 405),
        ("POST", "/api/predict", {"json": {}}, 422),
        ("POST", "/api/predict", {"content": b"x" * (2 << 20)}, 413),
        ("GET", "/", {"headers": {"Host": "evil.example:8000"}}, 421),
    ],
)
def test_every_answer_carries_the_security_headers(client, method, path, kwargs, status):
    response = client.request(method, path, **kwargs)
    assert response.status_code == status
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    assert policy["img-src"] == "'self' data: blob:"  # blob: shows a picture opened from a file
    assert policy["frame-ancestors"] == "'none'"
    # inline styles only where Plotly.js draws charts (the runs page), never inline scripts
    styles = "'self' 'unsafe-inline'" if path == "/runs" else "'self'"
    assert policy["style-src"] == styles
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


def test_files_from_the_runs_folder_run_no_script(client, runs_dir, web_network, tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text("{}")
    (tmp_path / "run" / "report.html").write_text("<script>alert(1)</script>")
    files = TestClient(create_app(web_network, tmp_path), base_url=LOCAL)
    response = files.get("/files/run/report.html")
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert "sandbox" in policy and response.headers["x-frame-options"] == "DENY"


def test_an_unexpected_failure_is_a_500_in_the_error_shape(web_network, digit):
    broken = copy.copy(web_network)

    def fails(x):
        raise FloatingPointError("a bug met by some input")

    broken.predict = fails
    response = TestClient(create_app(broken), base_url=LOCAL).post(
        "/api/predict", json={"pixels": digit[0].tolist()}
    )
    assert response.status_code == 500
    assert set(response.json()) == {"error"}
    assert "POST /api/predict" in response.json()["error"]
    assert "Traceback" not in response.text and "FloatingPointError" not in response.text
    assert response.headers["x-frame-options"] == "DENY"


# -- the Host check ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("127.0.0.1:8000", 200),
        ("localhost:8000", 200),
        ("LocalHost", 200),
        ("[::1]:8000", 200),
        ("evil.example:8000", 421),  # a rebinding page's own name, resolved to 127.0.0.1
        ("127.0.0.1.evil.example", 421),
        ("", 421),
    ],
)
def test_only_the_bound_names_are_answered(client, host, status):
    response = client.get("/api/runs", headers={"Host": host})
    assert response.status_code == status
    if status == 421:
        assert "--allowed-host" in response.json()["error"]


def test_a_server_open_to_any_name(web_network):
    anyone = TestClient(create_app(web_network, allowed_hosts=None), base_url=LOCAL)
    assert anyone.get("/api/runs", headers={"Host": "mybox.local:8000"}).status_code == 200


@pytest.mark.parametrize(
    ("bind", "extra", "allowed"),
    [
        ("127.0.0.1", (), LOOPBACK_HOSTS),
        ("localhost", ("mybox.local:8000",), LOOPBACK_HOSTS | {"mybox.local"}),
        ("::1", (), LOOPBACK_HOSTS),
        ("127.0.0.2", (), LOOPBACK_HOSTS | {"127.0.0.2"}),
        ("192.168.1.5", ("MyBox.local",), {"192.168.1.5", "mybox.local"}),
        ("fe80::1", (), {"[fe80::1]"}),
        ("0.0.0.0", ("mybox.local",), None),
        ("::", (), None),
    ],
)
def test_allowed_hosts_for_a_bound_address(bind, extra, allowed):
    assert allowed_hosts_for(bind, extra) == allowed


# -- one error shape ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status", "phrase"),
    [
        ("GET", "/no-such-page", 404, "nothing at /no-such-page"),
        ("GET", "/static/no-such.js", 404, "nothing at /static/no-such.js"),
        ("GET", "/api/runs/nope/history", 404, "no run called 'nope'"),
        ("PUT", "/api/runs", 405, "PUT is not answered at /api/runs"),
    ],
)
def test_every_error_is_one_error_field(client, method, path, status, phrase):
    response = client.request(method, path)
    assert response.status_code == status
    assert list(response.json()) == ["error"] and phrase in response.json()["error"]


@pytest.mark.parametrize(
    ("image", "status", "phrase"),
    [
        ("data:image/png;base64", 422, "without a comma"),
        ("data:image/png;base64,", 422, "image is empty"),
        ("", 422, "image is empty"),
    ],
)
def test_a_malformed_image_field(client, image, status, phrase):
    response = client.post("/api/predict", json={"image": image})
    assert response.status_code == status and phrase in response.json()["error"]


def test_a_model_that_does_not_read_28x28_is_refused_at_startup(web_network):
    with pytest.raises(ModelFileError, match="takes 100 inputs"):
        create_app(TwoLayerNet(100, 8, 10, seed=0))
    mislabelled = copy.copy(web_network)
    mislabelled.metadata = {"classes": ["yes", "no"]}
    with pytest.raises(ModelFileError, match="names 2 classes but has 10 outputs"):
        create_app(mislabelled)


def test_serve_with_such_a_model_is_one_line(tmp_path, capsys):
    from digitlab.cli import main
    from digitlab.modelfile import save

    path = save(TwoLayerNet(100, 8, 10, seed=0), tmp_path / "wide.npz")
    assert main(["serve", "--model", str(path), "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "takes 100 inputs" in err


# -- drawings of odd shapes, and the decoding budget ---------------------------------------------


def test_a_picture_one_pixel_high_is_no_digit(client):
    strip = Image.fromarray(np.full((1, 100), 255, np.uint8))
    response = client.post("/api/predict", json={"image": data_url(strip)})
    assert response.status_code == 200
    assert response.json()["digit"] is False and response.json()["reason"]


def test_a_digit_on_a_long_canvas_is_read(client, digit):
    """A digit drawn at the middle of an 8400x280 canvas: the background fit of a picture
    reduced to 64x2 used to be a singular system (a 500)."""
    pixels, label = digit
    canvas = np.zeros((280, 8400), np.uint8)
    canvas[:, 4060:4340] = np.asarray(
        Image.fromarray(np.round(pixels * 255).astype(np.uint8)).resize((280, 280))
    )
    response = client.post("/api/predict", json={"image": data_url(Image.fromarray(canvas))})
    assert response.status_code == 200
    assert response.json()["top"][0]["label"] == str(label)


def png_claiming(width: int, height: int, bit_depth: int = 16) -> bytes:
    """A valid grey PNG of width x height, all black, compressed row by row (never in memory
    whole): 7000x7000 at 16 bits is ~100 kB on disk, 98 MB decoded and 392 MB as floats."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, bit_depth, 0, 0, 0, 0)
    squeeze = zlib.compressobj(9)
    row = bytes(1 + width * bit_depth // 8)  # filter byte 0, then the row's samples
    data = b"".join(squeeze.compress(row) for _ in range(height)) + squeeze.flush()
    signature = b"\x89PNG\r\n\x1a\n"
    return signature + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def test_a_decompression_bomb_is_refused_from_its_header(client, monkeypatch):
    # under the 64 million pixels `digitlab predict` decodes, which the server used to apply
    bomb = png_claiming(7000, 7000)
    assert len(bomb) < 1 << 20  # it passes the body limit: only the pixel budget stops it
    assert Image.open(io.BytesIO(bomb)).size == (7000, 7000)

    def never(self):
        raise AssertionError("the bomb's pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", never)
    url = "data:image/png;base64," + base64.b64encode(bomb).decode()
    response = client.post("/api/predict", json={"image": url})
    assert response.status_code == 413
    assert "7,000x7,000 pixels" in response.json()["error"]
    assert f"{MAX_DRAWING_PIXELS:,}" in response.json()["error"]


@pytest.mark.parametrize(("width", "height", "refused"), [(2048, 2048, False), (2049, 2048, True)])
def test_the_pixel_budget_is_2048_squared(client, width, height, refused):
    blank = png_claiming(width, height, bit_depth=8)
    url = "data:image/png;base64," + base64.b64encode(blank).decode()
    response = client.post("/api/predict", json={"image": url})
    # a blank picture within the budget is decoded, and found to hold no digit
    assert response.status_code == (413 if refused else 200)
    if not refused:
        assert response.json()["digit"] is False


def test_only_the_formats_of_a_canvas_are_decoded(client):
    tiff = data_url(Image.new("L", (280, 280)), format="TIFF")
    response = client.post("/api/predict", json={"image": tiff})
    assert response.status_code == 415 and "PNG, JPEG or BMP" in response.json()["error"]


# -- the runs folder ---------------------------------------------------------------------------


def test_runs_with_bad_files_are_listed_as_unreadable(client):
    response = client.get("/api/runs")
    assert response.status_code == 200
    runs = {run["name"]: run for run in response.json()}
    assert set(runs) == {
        "empty-list", "garbage", "strings", "diverged", "deep", "huge", "nested-config",
        "history-link",
    }  # fmt: skip
    problems = {name: run["problem"] for name, run in runs.items() if run["state"] == "unreadable"}
    assert problems == {
        "empty-list": "history.json: not a JSON object",
        "garbage": "history.json: not valid JSON",
        "strings": "history.json: train_acc is not a list of numbers",
        "deep": "history.json: nested more than 32 levels deep",
        "huge": f"history.json: larger than {MAX_JSON_BYTES:,} bytes",
        "nested-config": "config.json: nested more than 32 levels deep",
        "history-link": "history.json: not a file of the run (a link out of it?)",
    }
    # no model and no live process holding its lock: its process has gone
    assert runs["diverged"]["state"] == "stopped" and runs["diverged"]["test_acc"] == 0.1


def test_a_diverged_history_has_null_for_nan(client):
    response = client.get("/api/runs/diverged/history")
    assert response.status_code == 200 and response.json()["loss"] == [2.3, None, None]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/runs/linked-out/history", 404),
        ("/api/runs/demo-run/history", 404),
        ("/files/linked-out/secret.txt", 404),
        ("/files/linked-out/history.json", 404),
        ("/api/runs/history-link/history", 422),
        ("/api/runs/garbage/history", 422),
    ],
)
def test_links_out_of_the_runs_folder_are_refused_on_every_route(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    assert "not for the web" not in response.text and "9.9" not in response.text


# -- slow bodies -------------------------------------------------------------------------------


def test_a_body_that_stops_arriving_is_answered_408():
    """A half-open request: the first chunk comes, the rest never does."""
    sent, reached_app = [], []
    chunks = [{"type": "http.request", "body": b"{", "more_body": True}]

    async def app(scope, receive, send):
        reached_app.append(True)

    async def receive():
        if chunks:
            return chunks.pop()
        await asyncio.sleep(3600)  # the client holds the connection and sends nothing more

    async def send(message):
        sent.append(message)

    limit = BodySizeLimit(app, limit=1000, timeout=0.3)
    started = time.monotonic()
    asyncio.run(limit({"type": "http", "headers": []}, receive, send))
    assert time.monotonic() - started < 2 and not reached_app
    assert sent[0]["status"] == 408
    assert "did not arrive within 0.3 s" in json.loads(sent[1]["body"])["error"]


def test_serve_sets_the_idle_timeout_and_the_allowed_hosts(monkeypatch):
    import uvicorn

    from digitlab.cli import main

    seen = {}

    def capture(server, sockets):
        seen["config"] = server.config
        for sock in sockets:
            sock.close()

    monkeypatch.setattr(uvicorn.Server, "run", capture)
    assert main(["serve", "--port", "0", "--allowed-host", "mybox.local"]) == 0
    config = seen["config"]
    assert config.timeout_keep_alive == 5 and config.limit_concurrency == 100
    host_check = next(m for m in config.app.user_middleware if m.cls.__name__ == "HostCheck")
    assert host_check.kwargs["allowed_hosts"] == LOOPBACK_HOSTS | {"mybox.local"}


def test_a_large_jpeg_is_decoded_at_a_reduced_scale():
    """A 4000x3000 phone photo (JPEG) is decoded at half scale, within the budget, not refused;
    a picture too large for Pillow to open at all is a 413, not "not a picture"."""
    import io as _io

    from fastapi import HTTPException
    from PIL import Image as _Image

    from digitlab.web.drawing import open_picture

    buffer = _io.BytesIO()
    _Image.new("RGB", (4000, 3000), (255, 255, 255)).save(buffer, "JPEG")
    picture = open_picture(buffer.getvalue())
    picture.load()
    assert picture.size == (2000, 1500)
    buffer = _io.BytesIO()
    _Image.new("1", (20000, 20000)).save(buffer, "BMP")
    with pytest.raises(HTTPException) as error:
        open_picture(buffer.getvalue())
    assert error.value.status_code == 413


def test_the_no_digit_reason_is_in_the_pages_language(client):
    """A "no digit" reason follows ?lang= (the page's language), not the server's."""
    import base64 as _base64
    import io as _io

    from PIL import Image as _Image
    from PIL import ImageDraw as _ImageDraw

    picture = _Image.new("L", (280, 280), 0)
    _ImageDraw.Draw(picture).ellipse((90, 90, 190, 190), fill=255)  # a filled dot
    buffer = _io.BytesIO()
    picture.save(buffer, "PNG")
    body = {"image": "data:image/png;base64," + _base64.b64encode(buffer.getvalue()).decode()}
    english = client.post("/api/predict?lang=en", json=body).json()
    chinese = client.post("/api/predict?lang=zh", json=body).json()
    assert english["digit"] is False and chinese["digit"] is False
    assert english["reason"].startswith("a filled shape")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in chinese["reason"])


def test_headers_that_trickle_in_are_cut_off(web_network, monkeypatch):
    """Slowloris: a real uvicorn server with HeaderDeadline closes a connection whose headers
    do not complete in time, while a normal request on a kept-alive connection is answered."""
    import socket
    import threading
    import time

    import uvicorn

    from digitlab.web import protocol
    from digitlab.web.app import create_app

    monkeypatch.setattr(protocol, "HEADERS_TIMEOUT_S", 0.5)
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    config = uvicorn.Config(
        create_app(web_network), http=protocol.HeaderDeadline, log_level="error"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        request = f"GET /api/texts HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
        with socket.create_connection(("127.0.0.1", port), timeout=5) as honest:
            honest.sendall(request)
            assert honest.recv(4096).startswith(b"HTTP/1.1 200")
        with socket.create_connection(("127.0.0.1", port), timeout=5) as slow:
            start = time.monotonic()
            closed = False
            for byte in request[:-4]:  # never finishes its headers
                try:
                    slow.sendall(bytes([byte]))
                    time.sleep(0.1)
                except OSError:
                    closed = True
                    break
                if time.monotonic() - start > 3:
                    break
            if not closed:
                slow.settimeout(2)
                closed = slow.recv(1024) == b""
            assert closed and time.monotonic() - start < 3
    finally:
        server.should_exit = True
        thread.join(timeout=10)
