"""Reading digits from pictures: MNIST's preprocessing, robustness to the ways a photo differs
from MNIST, one clear line for every unusable picture, and `digitlab predict`."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from digitlab import modelfile
from digitlab.cli import main
from digitlab.datasets import load_dataset
from digitlab.errors import ImageError
from digitlab.imaging import Prediction, predict, preprocess
from digitlab.imaging import load as image_load
from digitlab.imaging.photo_like import (
    TRANSFORMS,
    enlarged,
    inverted,
    jpeg,
    on_paper,
    phone_photo,
)

#: the robustness bar: a transformed digit is read as well as the original, to within this
#: many percentage points of accuracy (measured: see the README's table)
MARGIN = 0.03


@pytest.fixture(scope="module")
def mnist_test():
    data = load_dataset("mnist-10k")
    return data.x_test, data.t_test.astype(np.intp)


@pytest.fixture(scope="module")
def network():
    return modelfile.load_default()


@pytest.fixture(scope="module")
def sample(mnist_test):
    """500 real test digits drawn at random (seeded), as uint8 (500, 28, 28), and labels."""
    images, labels = mnist_test
    chosen = np.random.default_rng(0).choice(len(labels), size=500, replace=False)
    return images[chosen], labels[chosen]


def accuracy(network, pictures, labels):
    answers = [int(predict(network, picture).label) for picture in pictures]
    return np.mean(np.array(answers) == labels)


def test_preprocessing_an_mnist_digit_gives_it_back(sample):
    """MNIST's own digits are already in MNIST's form: preprocessing leaves them (nearly) as
    they are: same box, same centre of mass (up to a pixel, where MNIST rounded the other way
    from a centre of mass lying halfway between two pixels). A few differ more: a speck of ink
    apart from the digit, which MNIST kept in the box and preprocess drops."""
    images = sample[0][:100]
    differences = [np.abs(preprocess(image).image - image / 255).mean() for image in images]
    assert np.mean(differences) < 0.005
    assert np.median(differences) < 0.002

    def up_to_a_pixel(a, b):
        shifts = [np.roll(a, (dy, dx), axis=(0, 1)) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
        return min(np.abs(shifted - b).mean() for shifted in shifts)

    close = [up_to_a_pixel(preprocess(i).image, i / 255) < 0.01 for i in images]
    assert np.mean(close) >= 0.95


def test_transformed_digits_are_read_as_well_as_the_originals(network, sample):
    """500 real test digits, each shown one of the ways a photo differs from MNIST (in turn),
    and each as a phone photo with all of them at once, are read within MARGIN of the
    accuracy on the original digits."""
    images, labels = sample
    rng = np.random.default_rng(1)
    baseline = network.accuracy(images.reshape(len(images), -1).astype(np.float32) / 255, labels)
    assert baseline > 0.93
    one_each = [TRANSFORMS[i % len(TRANSFORMS)](d, rng) for i, d in enumerate(images)]
    assert accuracy(network, one_each, labels) >= baseline - MARGIN
    photos = [phone_photo(d, rng) for d in images]
    assert accuracy(network, photos, labels) >= baseline - MARGIN


@pytest.fixture(scope="module")
def first_100_read(network, sample):
    """The accuracy of `predict` on the first 100 sample digits as they are."""
    return accuracy(network, list(sample[0][:100]), sample[1][:100])


@pytest.mark.parametrize("transform", TRANSFORMS, ids=lambda f: f.__name__)
def test_each_transformation_alone(network, sample, first_100_read, transform):
    """Each way on its own, on 100 of the digits: none costs more than a few digits."""
    images, labels = sample[0][:100], sample[1][:100]
    rng = np.random.default_rng(2)
    read = accuracy(network, [transform(d, rng) for d in images], labels)
    assert read >= first_100_read - 0.05


def test_polarity_box_and_steps(sample):
    digit = sample[0][0]
    light_on_dark = preprocess(digit)
    dark_on_light = preprocess(inverted(digit, None))
    assert not light_on_dark.dark_ink and dark_on_light.dark_ink
    photo = preprocess(phone_photo(digit, np.random.default_rng(0)))
    assert photo.dark_ink
    top, left, bottom, right = photo.box
    # The digit's box (its 20 pixels enlarged 4x, bolder), not the sheet's 300x240.
    assert 75 <= max(bottom - top, right - left) <= 90
    assert max(photo.fitted.shape) == 20
    assert photo.image.shape == (28, 28)
    assert photo.image.min() >= 0 and photo.image.max() <= 1
    rows, cols = np.mgrid[0:28, 0:28]
    mass = photo.image.sum()
    assert abs((photo.image * rows).sum() / mass - 14) <= 0.5
    assert abs((photo.image * cols).sum() / mass - 14) <= 0.5


def test_specks_shadows_and_the_page_edge_are_not_the_digit(network, sample):
    """A dark band along one edge (the desk beyond the paper) and scattered specks of dust
    do not move the box: the digit is read as without them."""
    digit, label = sample[0][3], int(sample[1][3])
    ink = np.asarray(enlarged(digit), dtype=float) / 255
    sheet = np.zeros((300, 300))
    sheet[90:202, 120:232] = ink
    sheet[:, :25] = 0.9  # the desk
    rng = np.random.default_rng(3)
    for y, x in rng.integers(30, 290, size=(25, 2)):
        sheet[y, x] = 1.0  # dust
    picture = Image.fromarray(on_paper(sheet, np.array([0.95, 0.95, 0.93]), np.zeros(3)))
    steps = preprocess(picture)
    assert steps.box[1] >= 110 and steps.box[0] >= 80
    assert predict(network, picture).label == str(label) == predict(network, digit).label


def test_a_drawing_on_a_transparent_canvas(network, sample):
    digit, label = sample[0][5], int(sample[1][5])
    rgba = np.zeros((28, 28, 4), np.uint8)
    rgba[..., 3] = digit  # black ink, visible where the digit is
    assert predict(network, Image.fromarray(rgba, "RGBA")).label == str(label)
    rgba[..., :3] = 255  # white ink on a transparent canvas
    assert predict(network, Image.fromarray(rgba, "RGBA")).label == str(label)


def test_a_phone_photo_is_turned_upright_from_its_exif(tmp_path, network, sample):
    digit, label = sample[0][7], int(sample[1][7])
    upright = enlarged(255 - digit)
    stored = upright.rotate(90, expand=True)  # as the camera's sensor saw it
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    path = tmp_path / "photo.jpg"
    stored.save(path, exif=exif, quality=90)
    assert predict(network, path).label == str(label) == predict(network, upright).label


def test_predict_takes_paths_images_arrays_and_models(tmp_path, network, sample):
    digit = sample[0][2]
    path = tmp_path / "digit.png"
    Image.fromarray(255 - digit).save(path)
    model = modelfile.save(network, tmp_path / "model.npz")
    results = [
        predict(network, path),
        predict(str(model), Image.open(path)),
        predict(None, (255 - digit).astype(float) / 255),
        predict(model, np.stack([255 - digit] * 3, axis=2)),
    ]
    for result in results:
        assert isinstance(result, Prediction)
        assert result.classes == [str(i) for i in range(10)]
        assert result.probabilities.sum() == pytest.approx(1)
        assert np.allclose(result.probabilities, results[0].probabilities)
    top = results[0].top(3)
    assert top[0][0] == results[0].label
    assert top[0][1] >= top[1][1] >= top[2][1]
    assert repr(results[0]).startswith(f"Prediction({results[0].label} ")


def test_a_conv_net_reads_pictures_through_the_same_preprocessing(tmp_path, sample, capsys):
    from digitlab import SimpleConvNet

    net = SimpleConvNet(conv_param={"filter_num": 4, "filter_size": 5}, hidden_size=10, seed=0)
    path = modelfile.save(net, tmp_path / "conv.npz")
    picture = tmp_path / "digit.png"
    Image.fromarray(255 - sample[0][2]).save(picture)
    result = predict(str(path), picture)
    seen = preprocess(Image.open(picture)).image
    np.testing.assert_allclose(result.probabilities, net.predict(seen.reshape(1, 784))[0])
    assert main(["predict", str(picture), "--model", str(path)]) == 0
    assert capsys.readouterr().out.startswith(f"{result.label} ")


# -- pictures that cannot be read ----------------------------------------------------------------


def png_claiming(width, height):
    """A tiny PNG whose header claims width x height pixels: a decompression bomb's header."""
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr : ihdr + 17]))
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", crc)
    return bytes(data)


@pytest.fixture
def bad_pictures(tmp_path):
    (tmp_path / "notes.png").write_text("these are my notes, not a picture\n")
    (tmp_path / "empty.png").write_bytes(b"")
    Image.new("L", (200, 150), 235).save(tmp_path / "blank.png")
    noise = np.random.default_rng(0).random((100, 100, 3))
    buffer = io.BytesIO()
    Image.fromarray((noise * 255).astype(np.uint8)).save(buffer, "PNG")
    (tmp_path / "cut.png").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    (tmp_path / "bomb.png").write_bytes(png_claiming(30_000, 30_000))  # Pillow's error
    (tmp_path / "bomb2.png").write_bytes(png_claiming(10_000, 9_000))  # Pillow's warning
    (tmp_path / "big.png").write_bytes(png_claiming(8_500, 8_000))  # our own limit
    return tmp_path


@pytest.mark.parametrize(
    ("name", "phrase"),
    [
        ("absent.png", "no such file"),
        ("notes.png", "it is not an image"),
        ("empty.png", "the file is empty"),
        ("blank.png", "no digit found"),
        ("cut.png", "the image data is damaged"),
        ("bomb.png", "decompression bomb"),
        ("bomb2.png", "decompression bomb"),
        ("big.png", "8,500x8,000 pixels, more than the 64 million"),
    ],
)
def test_an_unusable_picture_is_one_clear_error(bad_pictures, name, phrase):
    with pytest.raises(ImageError, match=phrase) as caught:
        preprocess(bad_pictures / name)
    message = str(caught.value)
    assert "\n" not in message and name in message


def test_bad_arrays_and_other_objects(bad_pictures):
    with pytest.raises(ImageError, match="a folder"):
        preprocess(bad_pictures)
    with pytest.raises(ImageError, match=r"\(H, W\), \(H, W, 3\) or \(H, W, 4\)"):
        preprocess(np.zeros((28, 28, 2)))
    with pytest.raises(ImageError, match="values from 0 to 1"):
        preprocess(np.full((28, 28), 3.0))
    with pytest.raises(ImageError, match="no pixels"):
        preprocess(np.zeros((0, 28), np.uint8))
    with pytest.raises(ImageError, match="pass a file path, a PIL image or a NumPy array"):
        preprocess(42)


def test_the_size_limit_applies_to_images_and_arrays_too(monkeypatch):
    monkeypatch.setattr(image_load, "MAX_PIXELS", 1000)
    with pytest.raises(ImageError, match="40x40 pixels, more than"):
        preprocess(Image.new("L", (40, 40)))
    with pytest.raises(ImageError, match="40x40 pixels, more than"):
        preprocess(np.zeros((40, 40), np.uint8))


def test_plain_paper_with_grain_and_jpeg_is_blank():
    rng = np.random.default_rng(0)
    paper = np.array([0.93, 0.91, 0.85]) + rng.normal(0, 0.02, (200, 260, 1))
    picture = jpeg(Image.fromarray(np.round(255 * np.clip(paper, 0, 1)).astype(np.uint8)), 70)
    with pytest.raises(ImageError, match="no digit found"):
        preprocess(picture)


# -- the command ---------------------------------------------------------------------------------


def test_digitlab_predict_prints_the_top_three(tmp_path, capsys, sample):
    digit, label = sample[0][4], int(sample[1][4])
    photo = phone_photo(digit, np.random.default_rng(4))
    path = tmp_path / "my digit.jpg"
    photo.save(path)
    assert main(["predict", str(path)]) == 0
    out = capsys.readouterr().out.strip()
    fields = out.split()
    assert len(fields) == 6 and fields[0] == str(label)
    probabilities = [float(p.rstrip("%")) for p in fields[1::2]]
    assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) <= 100.05


def test_digitlab_predict_show_writes_what_the_network_saw(tmp_path, capsys, sample):
    paths = []
    for i in range(2):
        paths.append(tmp_path / f"d{i}.png")
        inverted(sample[0][i], None).save(paths[-1])
    model = modelfile.save(modelfile.load_default(), tmp_path / "model.npz")
    args = ["predict", *map(str, paths), "--model", str(model), "--show", "--show-dir"]
    assert main([*args, str(tmp_path / "seen")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [str(p) for p in paths]
    for i in range(2):
        seen = tmp_path / "seen" / f"d{i}-seen.png"
        assert f"(wrote {seen})" in lines[i]
        with Image.open(seen) as image:
            image.verify()
            assert image.format == "PNG"


def test_digitlab_predict_says_one_line_per_bad_picture(bad_pictures, capsys, sample):
    good = bad_pictures / "good.png"
    Image.fromarray(sample[0][0]).save(good)
    names = ["absent.png", "notes.png", "empty.png", "bomb.png"]
    code = main(["predict", str(good), *(str(bad_pictures / n) for n in names)])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out.startswith(f"{good}: ")  # the good picture is still read
    errors = captured.err.splitlines()
    assert len(errors) == len(names) and all(e.startswith("digitlab: ") for e in errors)
    assert "Traceback" not in captured.err


def test_digitlab_predict_with_a_bad_model(tmp_path, capsys, sample):
    picture = tmp_path / "d.png"
    Image.fromarray(sample[0][0]).save(picture)
    junk = tmp_path / "model.npz"
    junk.write_bytes(b"junk")
    assert main(["predict", str(picture), "--model", str(junk)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a digitlab model file" in err


# -- degenerate shapes ---------------------------------------------------------------------------


def digit_on_long_canvas(digit):
    """The digit enlarged to 280x280 in the middle of a black canvas 8400 wide, 280 high: the
    working copy is 640x21, only two rows high once reduced for the background's fit."""
    canvas = np.zeros((280, 8400), np.uint8)
    canvas[:, 4000:4280] = np.asarray(enlarged(digit, 10))
    return canvas


def test_a_digit_on_a_very_long_canvas_is_read(network, sample):
    images, labels = sample[0][:5], sample[1][:5]
    assert accuracy(network, [digit_on_long_canvas(d) for d in images], labels) >= 0.8
