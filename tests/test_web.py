"""The web app's API through FastAPI's test client: readings, runs, and every bad request."""

import base64
import io
import json
import re

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("fastapi", reason="the web extra (fastapi) is not installed")
pytest.importorskip("httpx2", reason="FastAPI's test client needs httpx2")
from fastapi.testclient import TestClient

from conftest import training_process
from digitlab.i18n import translate
from digitlab.web.app import MAX_BODY_BYTES, STATIC, create_app
from digitlab.web.texts import PAGE_TEXTS

#: the address `digitlab serve` binds by default: the Host a browser on this computer sends
LOCAL = "http://127.0.0.1:8000"


@pytest.fixture(scope="module")
def client(web_network, runs_dir):
    return TestClient(create_app(web_network, runs_dir), base_url=LOCAL)


def png_data_url(pixels: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(np.round(pixels * 255).astype(np.uint8)).resize((280, 280)).save(
        buffer, format="PNG"
    )
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def test_pixels_are_read(client, digit):
    pixels, label = digit
    response = client.post("/api/predict", json={"pixels": pixels.tolist()})
    assert response.status_code == 200
    body = response.json()
    assert body["top"][0]["label"] == str(label) and body["top"][0]["probability"] > 0.9
    assert sum(body["probabilities"]) == pytest.approx(1.0, abs=1e-5)
    assert np.array(body["input"]).shape == (28, 28) and len(body["hidden"]) == 64
    assert body["feature_maps"] == []  # no convolution in a 784-64-10 network
    assert [c["probability"] for c in body["top"]] == sorted(body["probabilities"])[::-1][:3]


def test_a_conv_net_shows_its_first_convolutions_feature_maps(runs_dir, digit):
    from digitlab import SimpleConvNet
    from digitlab.nn.conv import Convolution

    net = SimpleConvNet(conv_param={"filter_num": 6, "filter_size": 5}, hidden_size=12, seed=0)
    net.metadata = {"classes": [str(i) for i in range(10)]}
    client = TestClient(create_app(net, runs_dir), base_url=LOCAL)
    pixels, _ = digit
    body = client.post("/api/predict", json={"pixels": pixels.tolist()}).json()
    maps = np.array(body["feature_maps"])
    assert maps.shape == (6, 24, 24) and len(body["hidden"]) == 12
    seen = np.array(body["input"]).reshape(1, 1, 28, 28)
    expected = np.maximum(Convolution(net.params["W1"], net.params["b1"]).forward(seen), 0)
    np.testing.assert_allclose(maps, expected[0], atol=2e-3)  # the page's 3 decimals


def test_a_png_drawing_is_read_like_digitlab_predict(client, web_network, digit):
    from digitlab.imaging import predict

    pixels, label = digit
    url = png_data_url(pixels)
    body = client.post("/api/predict", json={"image": url}).json()
    image = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    expected = predict(web_network, image)
    assert body["top"][0]["label"] == str(label)
    assert body["top"][0]["probability"] == pytest.approx(expected.top()[0][1], abs=1e-6)


@pytest.mark.parametrize(
    ("payload", "status", "phrase"),
    [
        ({"pixels": [[0.0] * 28] * 27}, 422, "28 rows of 28 numbers, got 27x28"),
        ({"pixels": [[0.0] * 28] * 27 + [[0.0] * 5]}, 422, "ragged rows"),
        ({"pixels": [[2.0] * 28] * 28}, 422, "from 0 (background) to 1 (ink)"),
        ({"pixels": [[-0.5] * 28] * 28}, 422, "from 0 (background) to 1 (ink)"),
        ({"pixels": "seven"}, 422, "pixels"),
        ({"image": "not base64 at all!"}, 422, "not valid base64"),
        ({"image": base64.b64encode(b"GIF89a but not really").decode()}, 415, "not a PNG"),
        ({}, 422, "exactly one of"),
        ({"image": "aGVsbG8=", "pixels": [[0.0] * 28] * 28}, 422, "exactly one of"),
    ],
)
def test_bad_requests_get_a_clear_4xx_and_the_server_survives(
    client, digit, payload, status, phrase
):
    response = client.post("/api/predict", json=payload)
    assert response.status_code == status
    assert phrase in response.json()["error"]
    assert client.post("/api/predict", json={"pixels": digit[0].tolist()}).status_code == 200


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b"image=abc", "application/x-www-form-urlencoded"),
    ],
)
def test_not_a_json_object(client, content, content_type):
    response = client.post("/api/predict", content=content, headers={"Content-Type": content_type})
    assert response.status_code == 400
    assert "not a JSON object" in response.json()["error"]


def test_a_body_over_the_limit(client):
    response = client.post(
        "/api/predict",
        content=b"x" * (MAX_BODY_BYTES + 1),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert "over the limit" in response.json()["error"]


def test_a_chunked_body_over_the_limit_is_refused_while_it_arrives(client):
    """No Content-Length: the body is counted as it comes, and refused past the limit."""

    def chunks():
        for _ in range(100):
            yield b"x" * (MAX_BODY_BYTES // 10)

    response = client.post(
        "/api/predict", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert "over the limit" in response.json()["error"]
    assert client.get("/api/runs").status_code == 200  # the server goes on


def test_a_chunked_body_under_the_limit_is_read(client, digit):
    body = json.dumps({"pixels": digit[0].tolist()}).encode()
    response = client.post(
        "/api/predict",
        content=iter([body[:1000], body[1000:]]),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200


def test_a_drawing_that_is_no_digit_says_so(client, digit):
    square = np.zeros((28, 28))
    square[10:18, 10:18] = 1.0  # a small filled square: less than half the drawing
    body = client.post("/api/predict", json={"pixels": square.tolist()}).json()
    assert body["digit"] is False and body["reason"].startswith("a filled shape")
    body = client.post("/api/predict", json={"pixels": digit[0].tolist()}).json()
    assert body["digit"] is True and body["reason"] is None


def test_an_empty_drawing_is_no_digit_as_digitlab_predict_says_it(client):
    """Not an error (the page flashed one at a drawing's first dot): the answer that `digitlab
    predict` gives a blank picture, in the page's language."""
    blank = {"pixels": [[0.0] * 28] * 28}
    body = client.post("/api/predict", json=blank).json()
    assert body["digit"] is False and body["reason"].startswith("nothing stands out")
    assert body["saliency"] == [] and body["hidden"] == []
    chinese = client.post("/api/predict", params={"lang": "zh"}, json=blank).json()
    assert chinese["digit"] is False
    assert chinese["reason"] == translate(
        "nothing stands out from the background (a blank picture)", "zh"
    )
    assert chinese["reason"] != body["reason"]


def test_server_messages_speak_the_pages_language(client):
    english = client.post("/api/predict", json={"pixels": [[0.5] * 3]}).json()["error"]
    chinese = client.post("/api/predict?lang=zh", json={"pixels": [[0.5] * 3]}).json()["error"]
    assert english == "pixels must be 28 rows of 28 numbers, got 1x3."
    assert chinese == translate("pixels must be 28 rows of 28 numbers, got {shape}.", "zh").format(
        shape="1x3"
    )
    assert chinese != english


def test_openapi_schema_documents_the_api(client):
    schema = client.get("/api/openapi.json").json()
    assert "/api/predict" in schema["paths"]
    assert {"PredictRequest", "PredictResponse"} <= set(schema["components"]["schemas"])


def test_pages_and_assets_are_local(client):
    for path in ("/", "/runs", "/static/draw.js", "/static/runs.js", "/static/style.css"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "http://" not in response.text and "https://" not in response.text, path
    assert client.get("/docs").status_code == 404  # Swagger UI would load from a CDN


def test_runs_are_listed_with_their_history(client):
    runs = client.get("/api/runs").json()
    assert [r["name"] for r in runs] == ["demo-run"]
    assert runs[0]["state"] == "training" and runs[0]["test_acc"] == 0.79
    history = client.get("/api/runs/demo-run/history").json()
    assert history["loss"] == [2.3, 1.0]
    assert client.get("/api/runs/nope/history").status_code == 404


# -- the pages' words in two languages ----------------------------------------------------------


def test_page_texts_in_chinese_by_query_or_browser_language(client):
    by_query = client.get("/api/texts", params={"lang": "zh"}).json()
    by_header = client.get("/api/texts", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).json()
    assert by_query == by_header
    assert by_query["lang"] == "zh" and set(by_query["texts"]) == set(PAGE_TEXTS)
    untranslated = [text for text, zh in by_query["texts"].items() if zh == text]
    assert not untranslated
    assert by_query["texts"]["Draw a digit"] == "写一个数字"


def test_page_texts_in_english_otherwise(client):
    english = client.get("/api/texts", headers={"Accept-Language": "fr-FR,en;q=0.5"}).json()
    assert english["lang"] == "en"
    assert all(text == shown for text, shown in english["texts"].items())
    # a language digitlab lacks falls back to the browser's, then the server's
    assert client.get("/api/texts", params={"lang": "fr"}).json()["lang"] == "en"


def test_every_word_the_pages_show_is_in_the_catalogue():
    """The English of every data-i18n element and every t("...") of the scripts is a
    PAGE_TEXTS entry (so the catalogue check covers it)."""
    found = set()
    for html in STATIC.glob("*.html"):
        text = html.read_text(encoding="utf-8")
        found |= {m.strip() for m in re.findall(r"data-i18n>([^<]+)<", text)}
        found |= set(re.findall(r'aria-label="([^"]+)"[^>]*data-i18n-label', text))
        found |= set(re.findall(r"<title>([^<]+)</title>", text))
    for script in STATIC.glob("*.js"):
        found |= set(re.findall(r'\bt\("([^"]+)"\)', script.read_text(encoding="utf-8")))
    assert len(found) >= 25
    assert found <= set(PAGE_TEXTS), found - set(PAGE_TEXTS)


def test_serve_on_a_port_in_use_is_one_clear_line(capsys):
    import socket

    from digitlab.cli import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"cannot listen on 127.0.0.1:{port}" in err and "choose another --port" in err


# -- strokes to the edge, pictures, saliency ------------------------------------------------------


def seven_to_the_edges() -> np.ndarray:
    """A 7 drawn as two strokes, its bar running to the pad's right edge, its stem apart from
    it and clear of every edge: only the bar touches the border."""
    pad = np.zeros((28, 28))
    pad[3:6, 6:28] = 1.0  # the bar, to the right edge
    for row in range(7, 25):  # the stem, below the bar without touching it
        col = round(22 - (row - 7) * 0.45)
        pad[row, col - 1 : col + 2] = 1.0
    return pad


def test_strokes_that_run_to_the_pads_edge_are_kept(client):
    body = client.post("/api/predict", json={"pixels": seven_to_the_edges().tolist()}).json()
    seen = np.array(body["input"])
    # the bar is in what the network sees: ink in the top rows across most of the width
    assert (seen[:9].max(axis=0) > 0.5).sum() >= 10
    assert body["digit"] is True and body["top"][0]["label"] == "7"


def test_a_photo_keeps_dropping_what_touches_its_edge():
    """The same strokes in a photo: pieces at the edge are the desk or a shadow (preprocess's
    clean-up for photos and scans is unchanged; only a drawing keeps them)."""
    from digitlab.imaging import preprocess

    photo = preprocess(seven_to_the_edges()).image
    drawing = preprocess(seven_to_the_edges(), drawn=True).image
    assert (photo[:9].max(axis=0) > 0.5).sum() < 10  # the stem, scaled up: the bar is gone
    assert (drawing[:9].max(axis=0) > 0.5).sum() >= 10


def test_the_saliency_of_each_class_is_its_scores_gradient(client, web_network, digit):
    from digitlab.imaging.prediction import saliency

    body = client.post("/api/predict", json={"pixels": digit[0].tolist()}).json()
    shown = np.array(body["saliency"])
    assert shown.shape == (10, 28, 28)
    assert np.allclose(np.abs(shown).max(axis=(1, 2)), 1.0)
    exact = saliency(web_network, np.array(body["input"]))
    exact /= np.abs(exact).max(axis=(1, 2), keepdims=True)
    assert np.allclose(shown, exact, atol=1e-3)
    assert not np.allclose(shown[7], shown[1], atol=0.1)  # each class has its own map


def test_unsure_means_a_digit_whose_best_class_is_below_the_bar():
    """The bar itself, not whatever a drawing happens to read (which could not catch an
    `unsure` that is always False)."""
    from digitlab.imaging.prediction import UNSURE_BELOW, Prediction

    def reading(best: float, digit: bool = True) -> Prediction:
        rest = (1 - best) / 9
        probabilities = np.array([best] + [rest] * 9)
        return Prediction(
            probabilities, [str(i) for i in range(10)], np.zeros((28, 28)), digit=digit
        )

    assert reading(UNSURE_BELOW - 0.01).unsure
    assert not reading(UNSURE_BELOW + 0.01).unsure
    assert not reading(0.3, digit=False).unsure  # no digit is no guess either


def photo_bytes(digit_pixels: np.ndarray, size: tuple[int, int] = (1200, 1600)) -> bytes:
    """A phone-photo-like JPEG of the digit: dark ink on cream paper, light falling off,
    grain, the digit off-centre on a large sheet."""
    from digitlab.imaging.photo_like import phone_photo

    digit = np.round(digit_pixels * 255).astype(np.uint8)
    picture = phone_photo(digit, np.random.default_rng(0)).resize(size)
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def test_a_photo_sent_as_a_file_is_read_as_digitlab_predict_reads_it(client, web_network, digit):
    from digitlab.imaging import predict

    raw = photo_bytes(digit[0])
    response = client.post(
        "/api/predict/picture", content=raw, headers={"Content-Type": "image/jpeg"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    expected = predict(web_network, Image.open(io.BytesIO(raw)))
    assert body["top"][0]["label"] == expected.label == str(digit[1])
    assert body["probabilities"] == pytest.approx(expected.probabilities.tolist(), abs=1e-9)
    assert np.allclose(body["input"], expected.input, atol=1e-4)


def test_a_picture_over_the_drawing_limit_but_within_the_picture_limit(client, digit):
    from digitlab.web.settings import MAX_PICTURE_BYTES

    noise = np.random.default_rng(0).integers(0, 256, (1500, 1500, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, "PNG")  # incompressible: about 6.7 MB
    raw = buffer.getvalue()
    assert MAX_BODY_BYTES < len(raw) < MAX_PICTURE_BYTES
    response = client.post(
        "/api/predict/picture", content=raw, headers={"Content-Type": "image/png"}
    )
    assert response.status_code == 200 and response.json()["digit"] is False
    # the drawing endpoint keeps its own, smaller limit
    response = client.post("/api/predict", content=b"x" * (MAX_BODY_BYTES + 1))
    assert response.status_code == 413
    response = client.post(
        "/api/predict/picture",
        content=b"x" * (MAX_PICTURE_BYTES + 1),
        headers={"Content-Type": "image/png"},
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("content", "content_type", "status", "says"),
    [
        (b"GIF89a....", "image/gif", 415, "Content-Type image/png or image/jpeg"),
        (b"not a picture at all", "image/png", 415, "not a PNG, JPEG or BMP"),
        (b"", "image/jpeg", 415, "not a PNG, JPEG or BMP"),
    ],
)
def test_a_bad_picture_upload_is_named(client, content, content_type, status, says):
    response = client.post(
        "/api/predict/picture", content=content, headers={"Content-Type": content_type}
    )
    assert response.status_code == status
    assert says in response.json()["error"]


# -- the runs folder as it changes ----------------------------------------------------------------


def test_a_run_whose_process_is_gone_is_stopped(tmp_path, web_network):
    from digitlab.workflows import run_lock

    run = tmp_path / "runs" / "killed"
    run.mkdir(parents=True)
    (run / "history.json").write_text(json.dumps({"loss": [1.0], "train_acc": [0.5]}))
    client = TestClient(create_app(web_network, tmp_path / "runs"), base_url=LOCAL)
    assert client.get("/api/runs").json()[0]["state"] == "stopped"  # no lock: nobody trains it
    with run_lock.training(run):
        assert client.get("/api/runs").json()[0]["state"] == "training"
    assert client.get("/api/runs").json()[0]["state"] == "stopped"
    (run / "model.npz").write_bytes(b"")
    assert client.get("/api/runs").json()[0]["state"] == "finished"


def test_a_killed_training_process_leaves_its_run_stopped(tmp_path):
    """A real process holds the lock and is killed with SIGKILL: no clean-up runs, the file
    stays, and the run is stopped all the same (the system released the lock)."""
    from digitlab.workflows import run_lock

    run = tmp_path / "run"
    run.mkdir()
    with training_process(run) as process:
        assert run_lock.is_training(run)
        process.kill()
        process.wait()  # reaped: the system has released everything the process held
    assert (run / run_lock.LOCK_FILE).exists() and not run_lock.is_training(run)


def test_training_into_a_folder_another_process_trains_into_is_refused(tmp_path):
    from digitlab.errors import ConfigError
    from digitlab.workflows import run_lock

    with (
        run_lock.training(tmp_path),
        pytest.raises(ConfigError, match="another digitlab"),
        run_lock.training(tmp_path),
    ):
        pass


def test_a_runs_folder_made_after_the_server_started(tmp_path, web_network):
    runs = tmp_path / "runs"
    client = TestClient(create_app(web_network, runs), base_url=LOCAL)
    assert client.get("/api/runs").json() == []
    run = runs / "my run #2"
    run.mkdir(parents=True)
    (run / "config.json").write_text("{}")
    (run / "report.html").write_text("<h1>report</h1>")
    listed = client.get("/api/runs").json()
    assert listed[0]["report"] == "/files/my%20run%20%232/report.html"
    report = client.get(listed[0]["report"])
    assert report.status_code == 200 and "<h1>report</h1>" in report.text


def test_the_favicon_and_the_chart_library_are_served(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg")
    library = client.get("/vendor/plotly.min.js", headers={"Accept-Encoding": "gzip"})
    assert library.status_code == 200 and "plotly" in library.text[:2000].lower()
    assert library.headers["content-encoding"] == "gzip"


def test_a_refused_body_is_explained_in_the_pages_language(client):
    too_big = b"x" * (MAX_BODY_BYTES + 1)
    english = client.post("/api/predict", content=too_big).json()["error"]
    chinese = client.post("/api/predict?lang=zh", content=too_big).json()["error"]
    assert english.startswith("the request body is over the limit of 1,048,576 bytes")
    assert chinese.startswith("请求体超过了 1,048,576 字节的上限")
