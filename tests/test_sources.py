"""Tests of infotheory.sources against independent computations."""

import numpy as np
import pytest

from infotheory.sources import (
    binary_rate_distortion,
    binary_source,
    digits_source,
    gaussian_rate_distortion,
    gaussian_source,
    label_channel,
    source_from_data,
    symmetric_channel,
)


def h2(t):
    return -t * np.log2(t) - (1 - t) * np.log2(1 - t)


def test_binary_source_arrays_and_closed_form():
    src = binary_source(0.3, label_error=0.2)
    p_x, p_y, d = src  # unpacks like a tuple
    np.testing.assert_array_equal(p_x, [0.7, 0.3])
    np.testing.assert_array_equal(d, [[0, 1], [1, 0]])
    np.testing.assert_allclose(p_y, [[0.8, 0.2], [0.2, 0.8]], rtol=0, atol=1e-15)
    dd = np.array([0.01, 0.1, 0.25])
    np.testing.assert_allclose(src.closed_form(dd), h2(0.3) - h2(dd), rtol=0, atol=1e-14)
    assert src.closed_form(np.array([0.3, 0.45]))[0] == 0.0 and src.closed_form(0.45) == 0.0
    # nats
    np.testing.assert_allclose(
        binary_rate_distortion(0.3, 0.1, base=np.e), (h2(0.3) - h2(0.1)) * np.log(2), rtol=1e-14
    )


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, 1.5])
def test_binary_source_rejects_bad_p(bad):
    with pytest.raises(ValueError, match="p must lie"):
        binary_source(bad)


def test_symmetric_and_label_channel():
    w = symmetric_channel(4, 0.3)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-15)
    np.testing.assert_allclose(np.diag(w), 0.7)
    assert np.allclose(w[0, 1:], 0.1)
    lc = label_channel([2, 0, 1], 3)
    np.testing.assert_array_equal(lc, np.eye(3)[[2, 0, 1]])
    with pytest.raises(ValueError, match="error"):
        symmetric_channel(3, 1.2)
    with pytest.raises(ValueError, match="labels must be < n_classes"):
        label_channel([0, 3], 3)
    with pytest.raises(ValueError, match="labels"):
        label_channel([0.5, 1.0])


def test_gaussian_source_moments_and_labels():
    src = gaussian_source(2.0, n_points=201, width=6.0)
    x = src.x_points
    assert abs(src.p_x.sum() - 1) < 1e-12
    # the discretised variance approximates σ² (Riemann sum of a Gaussian on a fine grid)
    assert abs(np.dot(src.p_x, x**2) - 2.0) < 1e-6
    np.testing.assert_allclose(src.d_rd, (x[:, None] - src.xhat_points[None, :]) ** 2)
    # 2 classes = the sign of x
    assert np.all(src.p_y_given_x[x < 0, 0] == 1) and np.all(src.p_y_given_x[x > 0, 1] == 1)
    np.testing.assert_allclose(gaussian_rate_distortion(2.0, 0.5), 0.5 * np.log2(4.0), rtol=1e-15)
    with pytest.raises(ValueError, match="variance"):
        gaussian_source(-1.0)


def test_source_from_data_mse_against_loops():
    rng = np.random.default_rng(1)
    pts = rng.normal(size=(7, 3))
    cb = rng.normal(size=(4, 3))
    labels = np.array([0, 1, 2, 0, 1, 2, 0])
    src = source_from_data(pts, labels, codebook=cb, label_error=0.3)
    ref = np.array([[np.mean((pts[i] - cb[j]) ** 2) for j in range(4)] for i in range(7)])
    np.testing.assert_allclose(src.d_rd, ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(src.p_x, np.full(7, 1 / 7))
    np.testing.assert_allclose(src.p_y_given_x[1], [0.15, 0.7, 0.15])
    sub = source_from_data(pts, labels, n_codebook=3, method="subset", seed=2)
    assert all(any(np.array_equal(c, p) for p in pts) for c in sub.xhat_points)
    km = source_from_data(pts, labels, n_codebook=3, method="kmeans")
    assert km.d_rd.shape == (7, 3)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(labels=[0, 1]), "labels must have shape"),
        (dict(codebook=np.zeros((2, 3)), n_codebook=2), "either codebook or n_codebook"),
        (dict(), "n_codebook is required"),
        (dict(n_codebook=2, method="pca"), "method must be"),
        (dict(codebook=np.zeros((2, 5))), "codebook must have 3 columns"),
        (dict(n_codebook=2, weights=np.full(4, 0.3)), "weights sums to"),
    ],
)
def test_source_from_data_errors(kwargs, match):
    pts = np.zeros((4, 3))
    kw = dict(labels=[0, 1, 0, 1])
    kw.update(kwargs)
    labels = kw.pop("labels")
    with pytest.raises(ValueError, match=match):
        source_from_data(pts, labels, **kw)


def test_digits_source_offline():
    src = digits_source(n_samples=60, n_codebook=8, seed=3)
    assert src.shape == (60, 10, 8)
    assert np.all((src.p_y_given_x == 0) | (src.p_y_given_x == 1))
    assert 0 <= src.d_rd.min() and src.d_rd.max() <= 1.0  # pixels in [0, 1]
