"""neural.bridge.digits: the digits source as an exact problem, checked against sklearn and brute force."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from neural.bridge.digits import digit_images, digits_problem, digits_source
from neural.data.datasets import DIGITS_TEST_SIZE


def test_images_are_sklearn_digits_in_the_neural_split_order():
    images, labels = digit_images("all")
    bunch = load_digits()
    perm = np.random.RandomState(0).permutation(len(bunch.target))
    np.testing.assert_array_equal(images, bunch.data[perm] / 16.0)
    np.testing.assert_array_equal(labels, bunch.target[perm])
    test_images, test_labels = digit_images("test")
    np.testing.assert_array_equal(test_images, images[-DIGITS_TEST_SIZE:])
    np.testing.assert_array_equal(test_labels, labels[-DIGITS_TEST_SIZE:])


def test_digits_source_arrays_against_brute_force():
    src = digits_source(codebook_size=5, seed=1, split="test")
    n = DIGITS_TEST_SIZE
    assert src.images.shape == (n, 64) and src.codebook.shape == (5, 64)
    assert src.d_rd.shape == (n, 5) and src.p_y_given_x.shape == (n, 10)
    np.testing.assert_array_equal(src.p_x, np.full(n, 1 / n))
    np.testing.assert_array_equal(src.p_y_given_x, np.eye(10)[src.labels])
    brute = np.array([[np.mean((x - c) ** 2) for c in src.codebook] for x in src.images])
    np.testing.assert_allclose(src.d_rd, brute, rtol=0, atol=1e-14)
    # the k-means codebook: every centre is the mean of the images nearest to it
    nearest = src.d_rd.argmin(axis=1)
    for j in range(5):
        np.testing.assert_allclose(src.codebook[j], src.images[nearest == j].mean(0), atol=1e-6)


def test_multichannel_codewords_give_the_training_mse():
    images, labels = digit_images("test")
    rng = np.random.default_rng(0)
    cw = rng.uniform(-0.2, 1.2, size=(4, 3, 64))
    src = digits_problem(images, labels, cw.reshape(4, 192), channels=3)
    brute = ((images[:, None, None, :] - cw[None]) ** 2).mean(axis=(2, 3))
    np.testing.assert_allclose(src.d_rd, brute, rtol=0, atol=1e-14)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"codebook_size": 0}, "codebook_size"),
        ({"codebook_size": 361, "split": "test"}, "codebook_size"),
        ({"split": "valid"}, "split"),
        ({"seed": -1}, "seed"),
    ],
)
def test_digits_source_refuses_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        digits_source(**kwargs)


def test_digits_problem_refuses_mismatched_codebook():
    images, labels = digit_images("test")
    with pytest.raises(ValueError, match="codebook must have shape"):
        digits_problem(images, labels, np.zeros((3, 64)), channels=3)
