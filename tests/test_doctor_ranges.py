"""Ranges in the doctor's words: "0.01–0.02", and one number where both ends read the same."""

import numpy as np
import pytest

from digitlab.doctor import examine
from digitlab.doctor.ranges import format_range
from gallery import SoftmaxOverBatch


@pytest.mark.parametrize(
    ("low", "high", "written"),
    [
        (0.1, 0.1, "0.1"),
        (0.0100001, 0.0099999, "0.01"),  # different numbers, the same three digits
        (0.01, 0.02, "0.01–0.02"),
        (-3.0, 250.0, "-3–250"),
    ],
)
def test_a_range_is_written_once_where_its_ends_read_alike(low, high, written):
    assert format_range(low, high) == written


def test_the_format_applies_to_both_ends():
    assert format_range(0.123456, 0.123457, ".6f") == "0.123456–0.123457"
    assert format_range(0.123456, 0.123457, ".2f") == "0.12"


def test_softmax_over_the_batch_writes_its_row_sums_once_in_english_and_chinese(
    mnist_10k_inputs,
):
    # with tiny weights every row of a softmax over 100 samples sums to 1/100, to 3 digits
    x = mnist_10k_inputs[0][:100].astype(np.float64)
    t = np.eye(10)[mnist_10k_inputs[1][:100]]
    (finding,) = examine(SoftmaxOverBatch(784, 100, 10, 1e-5), x, t, lang="en").by_code(
        "softmax-across-batch"
    )
    assert finding.evidence["row_sums"] == "0.01"
    assert "rows sum to 0.01 and only the whole batch" in finding.message
    assert "0.01–0.01" not in finding.message
    chinese = finding.in_language("zh").message
    assert "各行之和为 0.01，" in chinese and "0.01–" not in chinese
    # the same finding of a batch whose rows differ writes the range, in both languages
    (spread,) = examine(SoftmaxOverBatch(784, 100, 10, 0.1), x, t).by_code("softmax-across-batch")
    low, high = spread.evidence["row_sums"].split("–")
    assert float(low) < float(high)
    assert f"rows sum to {low}–{high} and" in spread.in_language("en").message
    assert f"各行之和为 {low}–{high}，" in spread.in_language("zh").message
