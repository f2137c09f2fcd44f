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


def test_an_empty_drawing(client):
    response = client.post("/api/predict", json={"pixels": [[0.0] * 28] * 28})
    assert response.status_code == 422
    assert response.json()["error"]


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
