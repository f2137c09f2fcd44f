"""Augmentation: exact shifts and rotations, a per-image reference, dtypes, seeds, the Trainer."""

import math

import numpy as np
import pytest

from digitlab import ConfigError, Trainer, TwoLayerNet
from digitlab.datasets import Augment, augment, load_dataset, rotate_and_shift
from digitlab.datasets.augment import warp
from digitlab.train import SGD


@pytest.fixture(scope="module")
def digits(mnist_10k_inputs):
    """Eight real training digits, (8, 28, 28) float32 in [0, 1]."""
    return mnist_10k_inputs[0][:8].reshape(8, 28, 28)


def shifted_with_zeros(image, right, down):
    """np.roll, with what wraps around set to 0 instead."""
    out = np.roll(image, (down, right), axis=(0, 1))
    if down > 0:
        out[:down] = 0
    elif down < 0:
        out[down:] = 0
    if right > 0:
        out[:, :right] = 0
    elif right < 0:
        out[:, right:] = 0
    return out


@pytest.mark.parametrize(("right", "down"), [(1, 0), (0, 1), (-1, 0), (2, -3)])
def test_whole_pixel_shifts_equal_roll_with_zero_fill(digits, right, down):
    out = rotate_and_shift(digits, 0, (right, down))
    for image, result in zip(digits, out, strict=True):
        assert np.array_equal(result, shifted_with_zeros(image, right, down))


def test_warp_by_a_constant_field_is_a_shift_and_by_zero_the_identity(digits):
    zero = np.zeros_like(digits)
    assert np.array_equal(warp(digits, zero, zero), digits)
    # reading one pixel to the left and two up moves the picture one right and two down
    moved = warp(digits, zero - 1, zero - 2)
    for image, result in zip(digits, moved, strict=True):
        assert np.array_equal(result, shifted_with_zeros(image, 1, 2))


def test_warp_reads_between_pixels_bilinearly(digits):
    half = np.full_like(digits, 0.5)
    out = warp(digits, half, np.zeros_like(digits))
    expected = (digits[:, :, :-1] + digits[:, :, 1:]) / 2
    np.testing.assert_allclose(out[:, :, :-1], expected, atol=1e-6)


def test_no_rotation_no_shift_is_the_identity(digits):
    assert np.array_equal(rotate_and_shift(digits, 0, (0, 0)), digits)
    flat = digits.reshape(8, 784)
    assert np.array_equal(rotate_and_shift(flat, np.zeros(8), np.zeros((8, 2))), flat)


def test_quarter_turn_is_counter_clockwise():
    # An L: a vertical bar on the left, a foot at the bottom; turned 90° counter-clockwise the
    # bar lies along the bottom and the foot points up on the right: exactly np.rot90.
    image = np.zeros((28, 28))
    image[6:22, 8] = 1.0
    image[21, 8:16] = 1.0
    out = rotate_and_shift(image[None], 90, (0, 0))[0]
    assert np.allclose(out, np.rot90(image), atol=1e-12)
    assert out[19, 6:22].all() and out[12:20, 21].all()  # the bar, then the foot


def bilinear_reference(image, degrees, right, down):
    """Rotate then shift one image, one output pixel at a time, straight from the definition:
    out(row, col) = in(inverse map of (row, col)), bilinear, 0 outside."""
    h, w = image.shape
    c = (h - 1) / 2
    cos, sin = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))

    def pixel(r, k):
        return float(image[r, k]) if 0 <= r < h and 0 <= k < w else 0.0

    out = np.zeros((h, w))
    for row in range(h):
        for col in range(w):
            u, v = col - c - right, row - c - down
            x, y = cos * u - sin * v + c, sin * u + cos * v + c
            x0, y0 = math.floor(x), math.floor(y)
            fx, fy = x - x0, y - y0
            out[row, col] = (1 - fy) * ((1 - fx) * pixel(y0, x0) + fx * pixel(y0, x0 + 1)) + fy * (
                (1 - fx) * pixel(y0 + 1, x0) + fx * pixel(y0 + 1, x0 + 1)
            )
    return out


def test_a_batch_with_different_parameters_equals_the_per_image_reference(digits):
    images = digits[:4].astype(np.float64)
    degrees = np.array([10.0, -7.5, 33.0, 0.0])
    shifts = np.array([[0.5, -1.25], [2.0, 0.0], [-1.7, 0.3], [0.0, 13.6]])
    out = rotate_and_shift(images, degrees, shifts)
    for i in range(4):
        reference = bilinear_reference(images[i], degrees[i], *shifts[i])
        assert np.allclose(out[i], reference, atol=1e-12), i


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_and_shape_are_kept(digits, dtype):
    rng = np.random.default_rng(0)
    flat = digits.reshape(8, 784).astype(dtype)
    out = augment(flat, rng)
    assert out.dtype == dtype and out.shape == (8, 784)
    assert not np.array_equal(out, flat) and out.min() >= 0 and out.max() <= 1 + 1e-6


def test_integer_images_are_rounded_back():
    raw = load_dataset("mnist-10k").x_train[:5]
    out = rotate_and_shift(raw, 0, (0.5, 0))
    assert out.dtype == np.uint8
    want = np.rint(0.5 * raw[:, :, 1:].astype(float) + 0.5 * raw[:, :, :-1].astype(float))
    assert np.array_equal(out[:, :, 1:], want)


def test_same_seed_same_images(digits):
    one = augment(digits, np.random.default_rng(7))
    assert np.array_equal(one, augment(digits, np.random.default_rng(7)))
    assert not np.array_equal(one, augment(digits, np.random.default_rng(8)))


def test_augment_draws_within_its_limits(digits):
    # With shifts only, the ink's centre of mass moves by at most max_shift along each axis.
    out = augment(digits, np.random.default_rng(0), max_shift=1.5, max_degrees=0)
    rows = np.arange(28)[None, :, None]
    moved = (out * rows).sum(axis=(1, 2)) / out.sum(axis=(1, 2))
    before = (digits * rows).sum(axis=(1, 2)) / digits.sum(axis=(1, 2))
    assert np.all(np.abs(moved - before) <= 1.5 + 1e-3) and np.any(np.abs(moved - before) > 0.3)


def test_not_square_images_are_refused():
    with pytest.raises(ConfigError, match=r"shape \(4, 10\)"):
        rotate_and_shift(np.zeros((4, 10)), 0, (0, 0))


@pytest.mark.parametrize(
    ("kwargs", "field"), [({"max_shift": -1}, "max_shift"), ({"max_degrees": 270}, "max_degrees")]
)
def test_bad_settings_name_the_field(kwargs, field):
    with pytest.raises(ConfigError, match=rf"{field}=.* must be "):
        Augment(**kwargs)


class BatchSpy(TwoLayerNet):
    """A TwoLayerNet that keeps the inputs of every training step."""

    def __init__(self):
        super().__init__(784, 8, 10, seed=0, dtype="float32")
        self.batches = []

    def loss_and_gradient(self, x, t):
        self.batches.append(x.copy())
        return super().loss_and_gradient(x, t)


def test_the_trainer_augments_each_batch_and_never_the_data(digits):
    x = digits.reshape(8, 784).copy()
    t = np.arange(8)
    net = BatchSpy()
    trainer = Trainer(net, SGD(0.1), epochs=2, batch_size=4, log=None, augment=Augment())
    trainer.fit(x, t)
    assert np.array_equal(x, digits.reshape(8, 784))
    assert len(net.batches) == 4 and all(b.dtype == np.float32 for b in net.batches)
    originals = {x[i].tobytes() for i in range(8)}
    assert not any(row.tobytes() in originals for b in net.batches for row in b)
    assert repr(trainer.augment) == "Augment(max_shift=2, max_degrees=10)"


def test_augmented_training_still_learns_mnist_10k(mnist_10k_inputs):
    x_train, t_train, x_test, t_test = mnist_10k_inputs
    net = TwoLayerNet(784, 100, 10, weight_init_std="he", seed=0, dtype="float32")
    history = Trainer(net, SGD(0.5), epochs=3, log=None, augment=Augment()).fit(
        x_train, t_train, x_test, t_test
    )
    # Measured: 94.0% (93.4% without augmentation; over 20 epochs of 784-256-10, 97.5% against
    # 96.0%, as the network can no longer learn the training images by heart).
    assert history.test_acc[-1] >= 0.93


def test_mirror_flips_about_half_of_the_images_left_to_right():
    """Each image either unchanged or its mirror image, about half of each; one-channel images
    (N, 1, H, W), as a conv net takes them, keep their shape; no shift or turn when both are 0."""
    rng = np.random.default_rng(0)
    images = rng.random((400, 1, 6, 5)).astype(np.float32)
    out = Augment(max_shift=0, max_degrees=0, mirror=True)(images, np.random.default_rng(1))
    assert out.shape == images.shape and out.dtype == images.dtype
    same = np.all(out == images, axis=(1, 2, 3))
    mirrored = np.all(out == images[..., ::-1], axis=(1, 2, 3))
    assert np.all(same ^ mirrored)  # every image one or the other (random images: never both)
    assert 160 < mirrored.sum() < 240
    unchanged = Augment(max_shift=0, max_degrees=0)(images, np.random.default_rng(1))
    assert np.array_equal(unchanged, images)
    with pytest.raises(ConfigError, match="mirror must be True or False"):
        Augment(mirror="yes")
