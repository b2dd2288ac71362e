"""In-memory image classification datasets.

* ``digits`` (default, ships with scikit-learn, no download): the 1797 8×8 handwritten
  digits of ``sklearn.datasets.load_digits``, grey levels 0..16 divided by 16, resized by
  bilinear interpolation (``align_corners=False``) to ``image_size`` (default 32) and
  repeated to 3 channels. Split: ``numpy.random.RandomState(0).permutation(1797)``; the
  first 1437 indices are the training set, the last ``DIGITS_TEST_SIZE = 360`` the test set.
* ``stl10``: the binary release (``train_X.bin``, ``train_y.bin``, ``test_X.bin``,
  ``test_y.bin``; 96×96×3 uint8 images stored column-major, labels 1..10 stored as uint8)
  in ``data_dir`` or ``data_dir/stl10_binary``.
* ``cifar10``: the Python release (pickled ``data_batch_1..5`` and ``test_batch``, each a
  dict with ``b"data"`` (N×3072 uint8, channel-major rows) and ``b"labels"``) in
  ``data_dir`` or ``data_dir/cifar-10-batches-py``. The pickles are read by a restricted
  unpickler (:class:`CifarUnpickler`) that admits only what the release contains (dicts,
  lists, bytes, ints and uint8 NumPy arrays): a file that names any other callable is
  refused before anything in it runs.

Images are held as uint8 (converted to float in [0, 1] per batch) or float32 in [0, 1].
"""

from __future__ import annotations

import io
import os
import pickle
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

DATASETS = ("digits", "stl10", "cifar10")
DIGITS_TEST_SIZE = 360
_STL_SIDE = 96
_CIFAR_SIDE = 32


@dataclass
class ImageDataset:
    """Images ``(N, C, H, W)`` (uint8 0..255 or float32 in [0, 1]), labels ``(N,)`` int64."""

    images: torch.Tensor
    labels: torch.Tensor
    num_classes: int
    name: str

    def __post_init__(self) -> None:
        if self.images.dim() != 4:
            raise ValueError(f"images must be (N, C, H, W), got shape {tuple(self.images.shape)}")
        if self.images.dtype not in (torch.uint8, torch.float32):
            raise ValueError(f"images must be uint8 or float32, got {self.images.dtype}")
        if self.labels.shape != (self.images.shape[0],) or self.labels.dtype != torch.int64:
            raise ValueError("labels must be an int64 tensor of shape (N,) matching the images")
        if len(self.labels) and (
            int(self.labels.min()) < 0 or int(self.labels.max()) >= self.num_classes
        ):
            raise ValueError(f"labels must lie in 0..{self.num_classes - 1}")

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def image_size(self) -> tuple[int, int]:
        return int(self.images.shape[2]), int(self.images.shape[3])

    def batch(
        self, index: torch.Tensor, device: torch.device | str
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Images as float32 in [0, 1] ``(b, C, H, W)`` and labels ``(b,)`` on ``device``."""
        x = self.images[index].to(device, non_blocking=True)
        x = x.float().div_(255.0) if x.dtype == torch.uint8 else x
        return x, self.labels[index].to(device, non_blocking=True)


def _check_split(split: str) -> None:
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")


def _check_size(image_size: int | None) -> None:
    if image_size is not None and (
        not isinstance(image_size, int) or image_size < 8 or image_size % 8
    ):
        raise ValueError(
            f"image_size must be a positive multiple of 8 (the encoder down-samples by 8), got {image_size!r}"
        )


def _resize(images: torch.Tensor, size: int) -> torch.Tensor:
    """Bilinear (antialiased when shrinking) resize to ``size×size``; float32 in [0, 1] out."""
    out = []
    for chunk in images.split(512):
        x = chunk.float() / 255.0 if chunk.dtype == torch.uint8 else chunk
        out.append(
            F.interpolate(
                x,
                size=(size, size),
                mode="bilinear",
                align_corners=False,
                antialias=size < x.shape[-1],
            )
        )
    return torch.cat(out)


def load_digits_dataset(split: str, image_size: int = 32) -> ImageDataset:
    """The built-in digits (see the module docstring for the exact preprocessing and split)."""
    from sklearn.datasets import load_digits

    _check_split(split)
    _check_size(image_size)
    bunch = load_digits()
    images = torch.from_numpy(bunch.images.astype(np.float32) / 16.0).unsqueeze(
        1
    )  # (1797, 1, 8, 8)
    labels = torch.from_numpy(bunch.target.astype(np.int64))
    perm = torch.from_numpy(np.random.RandomState(0).permutation(len(labels)))
    n_train = len(labels) - DIGITS_TEST_SIZE
    idx = perm[:n_train] if split == "train" else perm[n_train:]
    x = F.interpolate(
        images[idx], size=(image_size, image_size), mode="bilinear", align_corners=False
    )
    return ImageDataset(x.repeat(1, 3, 1, 1).contiguous(), labels[idx].contiguous(), 10, "digits")


def _find_dir(
    data_dir: str | os.PathLike | None, names: list[str], subdir: str, dataset: str
) -> str:
    if data_dir is None or str(data_dir) == "":
        raise ValueError(f"dataset {dataset!r} needs data_dir (the directory holding its files)")
    data_dir = os.fspath(data_dir)
    if not os.path.isdir(data_dir):
        raise FileNotFoundError(
            f"data_dir {data_dir!r} for dataset {dataset!r} does not exist or is not a directory"
        )
    for d in (data_dir, os.path.join(data_dir, subdir)):
        if all(os.path.isfile(os.path.join(d, n)) for n in names):
            return d
    missing = [n for n in names if not os.path.isfile(os.path.join(data_dir, n))]
    raise FileNotFoundError(
        f"{dataset}: missing file(s) {missing} in {data_dir!r} (also looked in {os.path.join(data_dir, subdir)!r})"
    )


def load_stl10(
    data_dir: str | os.PathLike | None, split: str, image_size: int | None = None
) -> ImageDataset:
    """STL-10 labelled split from its binary files (see the module docstring)."""
    _check_split(split)
    _check_size(image_size)
    names = [f"{split}_X.bin", f"{split}_y.bin"]
    d = _find_dir(data_dir, names, "stl10_binary", "stl10")
    xpath, ypath = (os.path.join(d, n) for n in names)
    raw = np.fromfile(xpath, dtype=np.uint8)
    per = 3 * _STL_SIDE * _STL_SIDE
    if raw.size == 0 or raw.size % per:
        raise ValueError(
            f"stl10: {xpath} has {raw.size} bytes, not a positive multiple of 3*96*96 = {per}"
        )
    labels = np.fromfile(ypath, dtype=np.uint8).astype(np.int64)
    n = raw.size // per
    if labels.size != n:
        raise ValueError(f"stl10: {ypath} has {labels.size} labels but {xpath} has {n} images")
    if labels.min() < 1 or labels.max() > 10:
        raise ValueError(
            f"stl10: labels in {ypath} must be 1..10, found {labels.min()}..{labels.max()}"
        )
    # Stored column-major per channel: (N, C, W, H) -> (N, C, H, W).
    x = torch.from_numpy(raw.reshape(n, 3, _STL_SIDE, _STL_SIDE).transpose(0, 1, 3, 2).copy())
    if image_size is not None and image_size != _STL_SIDE:
        x = _resize(x, image_size)
    return ImageDataset(x, torch.from_numpy(labels - 1), 10, "stl10")


class CifarUnpickler(pickle.Unpickler):
    """Unpickler for the CIFAR-10 Python batches that resolves only the globals the release
    uses to rebuild its NumPy arrays (``numpy.core.multiarray._reconstruct``, ``numpy.ndarray``,
    ``numpy.dtype``; ``numpy._core`` is NumPy 2's name for ``numpy.core``). Any other global
    (``os.system``, ``builtins.eval``, ...) raises ``pickle.UnpicklingError``."""

    ALLOWED = frozenset(
        {
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
        }
    )

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(
                f"global '{module}.{name}' is not allowed in a CIFAR-10 batch (only NumPy array reconstruction is)"
            )
        if module == "numpy.core.multiarray" and hasattr(np, "_core"):
            module = "numpy._core.multiarray"  # NumPy 2: numpy.core is a deprecated alias
        return super().find_class(module, name)


def unpickle_cifar_batch(data: bytes) -> Any:
    """Unpickle one CIFAR-10 batch (``encoding="bytes"``, as the release was written by Python 2)
    with :class:`CifarUnpickler`."""
    return CifarUnpickler(io.BytesIO(data), encoding="bytes").load()


def load_cifar10(
    data_dir: str | os.PathLike | None, split: str, image_size: int | None = None
) -> ImageDataset:
    """CIFAR-10 from its Python batches (see the module docstring)."""
    _check_split(split)
    _check_size(image_size)
    names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    d = _find_dir(data_dir, names, "cifar-10-batches-py", "cifar10")
    xs, ys = [], []
    for name in names:
        path = os.path.join(d, name)
        try:
            with open(path, "rb") as f:
                batch = unpickle_cifar_batch(f.read())
        except Exception as exc:
            raise ValueError(f"cifar10: cannot unpickle {path}: {exc}") from exc
        if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
            raise ValueError(
                f"cifar10: {path} is not a CIFAR-10 batch (needs keys b'data' and b'labels')"
            )
        data = np.asarray(batch[b"data"])
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
        if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * _CIFAR_SIDE**2:
            raise ValueError(
                f"cifar10: {path} b'data' must be uint8 of shape (N, 3072), got {data.dtype} {data.shape}"
            )
        if labels.shape != (data.shape[0],):
            raise ValueError(f"cifar10: {path} has {labels.size} labels for {data.shape[0]} images")
        if labels.size and (labels.min() < 0 or labels.max() > 9):
            raise ValueError(f"cifar10: labels in {path} must be 0..9")
        xs.append(data.reshape(-1, 3, _CIFAR_SIDE, _CIFAR_SIDE))
        ys.append(labels)
    x = torch.from_numpy(np.concatenate(xs))
    if image_size is not None and image_size != _CIFAR_SIDE:
        x = _resize(x, image_size)
    return ImageDataset(x, torch.from_numpy(np.concatenate(ys)), 10, "cifar10")


def check_dataset_files(name: str, data_dir: str | os.PathLike | None) -> None:
    """Raise ``FileNotFoundError``/``ValueError`` now if ``name``'s files are not in ``data_dir``."""
    if name == "stl10":
        for split in ("train", "test"):
            _find_dir(data_dir, [f"{split}_X.bin", f"{split}_y.bin"], "stl10_binary", "stl10")
    elif name == "cifar10":
        _find_dir(
            data_dir,
            [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"],
            "cifar-10-batches-py",
            "cifar10",
        )
    elif name != "digits":
        raise ValueError(f"unknown dataset {name!r}; choose one of {DATASETS}")


def load_dataset(
    name: str, split: str, data_dir: str | os.PathLike | None = None, image_size: int | None = None
) -> ImageDataset:
    """Load ``name`` (one of :data:`DATASETS`); ``image_size=None`` keeps the native size (32 for digits)."""
    if name == "digits":
        if data_dir:
            raise ValueError("dataset 'digits' is built in; do not pass data_dir")
        return load_digits_dataset(split, 32 if image_size is None else image_size)
    if name == "stl10":
        return load_stl10(data_dir, split, image_size)
    if name == "cifar10":
        return load_cifar10(data_dir, split, image_size)
    raise ValueError(f"unknown dataset {name!r}; choose one of {DATASETS}")
