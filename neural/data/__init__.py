"""Datasets for the TOSC-SR system: built-in digits (offline), STL-10 and CIFAR-10 from disk."""

from neural.data.datasets import (
    DATASETS,
    DIGITS_TEST_SIZE,
    ImageDataset,
    check_dataset_files,
    load_cifar10,
    load_dataset,
    load_digits_dataset,
    load_stl10,
)

__all__ = [
    "DATASETS",
    "DIGITS_TEST_SIZE",
    "ImageDataset",
    "check_dataset_files",
    "load_cifar10",
    "load_dataset",
    "load_digits_dataset",
    "load_stl10",
]
