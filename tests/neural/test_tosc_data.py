"""Datasets: the built-in digits split and the real STL-10 / CIFAR-10 file formats."""

import os
import pickle

import numpy as np
import pytest
import torch

from neural.data import (
    DIGITS_TEST_SIZE,
    load_cifar10,
    load_dataset,
    load_digits_dataset,
    load_stl10,
)
from neural.data.datasets import unpickle_cifar_batch


def test_digits_split_is_fixed_and_disjoint():
    from sklearn.datasets import load_digits

    train, test = load_digits_dataset("train"), load_digits_dataset("test")
    assert len(train) == 1797 - DIGITS_TEST_SIZE and len(test) == DIGITS_TEST_SIZE
    assert train.images.shape[1:] == (3, 32, 32) and train.images.dtype == torch.float32
    assert torch.equal(train.images[:, 0], train.images[:, 2])
    perm = np.random.RandomState(0).permutation(1797)
    assert torch.equal(
        test.labels, torch.from_numpy(load_digits().target[perm[-DIGITS_TEST_SIZE:]])
    )
    assert float(train.images.min()) >= 0.0 and float(train.images.max()) <= 1.0
    assert load_digits_dataset("train", 16).images.shape[-2:] == (16, 16)


def test_digits_bad_arguments():
    with pytest.raises(ValueError, match="multiple of 8"):
        load_digits_dataset("train", 20)
    with pytest.raises(ValueError, match="split"):
        load_digits_dataset("valid")
    with pytest.raises(ValueError, match="built in"):
        load_dataset("digits", "train", data_dir="/somewhere")


def _write_stl(d, split, images_nchw, labels_1_to_10):
    # STL-10 binary layout: per image, channel by channel, each 96x96 plane column-major.
    images_nchw.transpose(0, 1, 3, 2).astype(np.uint8).tofile(d / f"{split}_X.bin")
    np.asarray(labels_1_to_10, dtype=np.uint8).tofile(d / f"{split}_y.bin")


def test_stl10_parses_real_layout(tmp_path):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (3, 3, 96, 96), dtype=np.uint8)
    imgs[0, 0, 0, :] = 255  # top row of the red plane bright: must stay a row, not a column
    imgs[0, 0, 1:, :] = 0
    sub = tmp_path / "stl10_binary"
    sub.mkdir()
    _write_stl(sub, "train", imgs, [1, 10, 4])
    ds = load_stl10(tmp_path, "train")
    assert torch.equal(ds.images, torch.from_numpy(imgs))
    assert ds.labels.tolist() == [0, 9, 3]
    assert int(ds.images[0, 0, 0].min()) == 255 and int(ds.images[0, 0, :, 0][1:].max()) == 0
    assert load_stl10(tmp_path, "train", image_size=32).images.shape == (3, 3, 32, 32)
    x, y = ds.batch(torch.tensor([1]), "cpu")
    assert x.dtype == torch.float32 and torch.allclose(x * 255, torch.from_numpy(imgs[1:2]).float())


def test_stl10_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_stl10(tmp_path / "nope", "train")
    with pytest.raises(FileNotFoundError, match="test_X.bin"):
        load_stl10(tmp_path, "test")
    with pytest.raises(ValueError, match="needs data_dir"):
        load_stl10(None, "test")
    (tmp_path / "test_X.bin").write_bytes(b"\0" * 100)
    (tmp_path / "test_y.bin").write_bytes(b"\1")
    with pytest.raises(ValueError, match="multiple of 3\\*96\\*96"):
        load_stl10(tmp_path, "test")
    _write_stl(tmp_path, "test", np.zeros((2, 3, 96, 96), np.uint8), [1])
    with pytest.raises(ValueError, match="1 labels but .* 2 images"):
        load_stl10(tmp_path, "test")
    _write_stl(tmp_path, "test", np.zeros((1, 3, 96, 96), np.uint8), [0])
    with pytest.raises(ValueError, match="1..10"):
        load_stl10(tmp_path, "test")


def _write_cifar(d, name, data, labels):
    with open(d / name, "wb") as f:
        pickle.dump({b"batch_label": b"x", b"data": data, b"labels": labels, b"filenames": []}, f)


def test_cifar10_parses_real_layout(tmp_path):
    rng = np.random.default_rng(1)
    sub = tmp_path / "cifar-10-batches-py"
    sub.mkdir()
    batches = [rng.integers(0, 256, (2, 3072), dtype=np.uint8) for _ in range(5)]
    for i, b in enumerate(batches):
        _write_cifar(sub, f"data_batch_{i + 1}", b, [i, 9 - i])
    _write_cifar(sub, "test_batch", batches[0], [3, 4])
    ds = load_cifar10(tmp_path, "train")
    assert ds.images.shape == (10, 3, 32, 32)
    # Row layout: 1024 red values (row-major 32x32), then green, then blue.
    assert torch.equal(ds.images[2, 1, 5, 7], torch.tensor(batches[1][0, 1024 + 5 * 32 + 7]))
    assert ds.labels.tolist() == [0, 9, 1, 8, 2, 7, 3, 6, 4, 5]
    assert load_dataset("cifar10", "test", tmp_path).labels.tolist() == [3, 4]


def test_cifar10_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="test_batch"):
        load_cifar10(tmp_path, "test")
    (tmp_path / "test_batch").write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match="cannot unpickle"):
        load_cifar10(tmp_path, "test")
    _write_cifar(tmp_path, "test_batch", np.zeros((2, 100), np.uint8), [0, 1])
    with pytest.raises(ValueError, match=r"\(N, 3072\)"):
        load_cifar10(tmp_path, "test")
    _write_cifar(tmp_path, "test_batch", np.zeros((2, 3072), np.uint8), [0, 10])
    with pytest.raises(ValueError, match="0..9"):
        load_cifar10(tmp_path, "test")


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_cifar10_refuses_a_pickle_that_runs_code(tmp_path):
    marker = tmp_path / "pwned"
    with open(tmp_path / "test_batch", "wb") as f:
        pickle.dump({b"data": _Evil(marker), b"labels": [0]}, f)
    with pytest.raises(ValueError, match=r"cannot unpickle.*posix.system' is not allowed"):
        load_cifar10(tmp_path, "test")
    assert not marker.exists()
    for proto in (0, 2, pickle.HIGHEST_PROTOCOL):
        with pytest.raises(pickle.UnpicklingError, match="not allowed"):
            unpickle_cifar_batch(pickle.dumps({b"data": _Evil(marker)}, protocol=proto))
        with pytest.raises(
            pickle.UnpicklingError, match=r"(builtins|__builtin__)\.eval' is not allowed"
        ):
            unpickle_cifar_batch(pickle.dumps({"data": _Eval()}, protocol=proto))
    assert not marker.exists()
    # What the release holds (dicts, bytes, ints, uint8 arrays) passes ...
    ok = {
        b"batch_label": b"b",
        b"data": np.arange(6, dtype=np.uint8).reshape(2, 3),
        b"labels": [1, 2],
    }
    got = unpickle_cifar_batch(pickle.dumps(ok, protocol=4))
    assert (
        got[b"labels"] == [1, 2]
        and got[b"data"].dtype == np.uint8
        and got[b"data"].tolist() == [[0, 1, 2], [3, 4, 5]]
    )
    # ... also with NumPy 1's module name numpy.core.multiarray, as in the release (protocol 3: text GLOBALs)
    legacy = pickle.dumps({b"data": np.arange(3, dtype=np.uint8)}, protocol=3)
    legacy = legacy.replace(b"numpy._core.multiarray\n", b"numpy.core.multiarray\n")
    assert b"numpy.core.multiarray" in legacy and unpickle_cifar_batch(legacy)[
        b"data"
    ].tolist() == [0, 1, 2]


class _Eval:
    def __reduce__(self):
        return (eval, ("1 + 1",))
