"""Reading weights back: ``classifier_from`` / ``codec_from`` and :func:`load_run`.

Everything is read with ``torch.load(..., weights_only=True)`` (see
:mod:`neural.training.files`); a weights file is checked against the configuration that
uses it (state-dict keys and shapes, and the architecture fields of the ``config.json``
beside it when there is one) and identified by its SHA-256.
"""

from __future__ import annotations

import os

import torch
from torch import nn

from neural.config import TrainConfig, config_from_dict, load_config_file
from neural.training.distributed import resolve_device
from neural.training.files import load_weights, sha256_file
from neural.training.result import LoadedRun, beta_label
from neural.training.systems import build_classifier, build_codec, build_head

_NATIVE_SIZE = {"digits": 32, "stl10": 96, "cifar10": 32}
#: Fields of the writing run's configuration that must equal ours for its weights to fit.
CLASSIFIER_FIELDS = ("dataset", "image_size", "classifier_width", "classifier_stem")
CODEC_FIELDS = ("dataset", "image_size", "latent_channels", "codec_width")


def _arch_value(config: TrainConfig, name: str) -> object:
    if name == "image_size":
        return (
            config.image_size if config.image_size is not None else _NATIVE_SIZE.get(config.dataset)
        )
    return getattr(config, name)


def weights_path(source: str, file_name: str, what: str) -> str:
    """``source`` itself if it is a file, else ``source/file_name`` (a run directory)."""
    path = os.path.join(source, file_name) if os.path.isdir(source) else source
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"{what}: no weights file at {path!r} (give a {file_name} or the run directory holding it)"
        )
    return path


def read_run_config(run_dir: str) -> TrainConfig:
    """The validated configuration in ``run_dir/config.json``."""
    path = os.path.join(run_dir, "config.json")
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"{run_dir!r} holds no config.json: not a run directory of neural.train"
        )
    return config_from_dict(load_config_file(path))


def load_module_weights(
    module: nn.Module,
    path: str,
    what: str,
    config: TrainConfig | None = None,
    fields: tuple[str, ...] = (),
) -> str:
    """Load ``path`` into ``module`` (strict: every key and shape must fit); return its SHA-256.

    With ``config``, the ``config.json`` beside ``path`` (if any) must agree with ``config`` on
    ``fields``; otherwise ``ValueError`` names the differing fields.
    """
    if config is not None and fields:
        beside = os.path.join(os.path.dirname(os.path.abspath(path)), "config.json")
        if os.path.isfile(beside):
            theirs = read_run_config(os.path.dirname(os.path.abspath(path)))
            diff = [
                f"{k}: {_arch_value(theirs, k)!r} there vs {_arch_value(config, k)!r} here"
                for k in fields
                if _arch_value(theirs, k) != _arch_value(config, k)
            ]
            if diff:
                raise ValueError(
                    f"{what}: {path} was trained with another setting ({'; '.join(diff)})"
                )
    state = load_weights(path, what)
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{what}: {path} does not hold a state dict (name -> tensor)")
    try:
        module.load_state_dict(state)
    except RuntimeError as exc:
        hint = ", ".join(fields) if fields else "the architecture"
        raise ValueError(
            f"{what}: {path} does not fit this network (check {hint}): {str(exc).splitlines()[0]}"
        ) from exc
    return sha256_file(path)


def load_run(
    run_dir: str | os.PathLike,
    *,
    device: str | torch.device = "cpu",
    classifier: nn.Module | None = None,
) -> LoadedRun:
    """Reload a run written by ``python -m neural.train --out DIR`` (or ``train(config)``).

    Args:
        run_dir: the run's output directory.
        device: where the networks go (``"cpu"``, ``"cuda"``, ``"auto"``, ...).
        classifier: only for a run trained with a custom task network (``train(config,
            classifier=net)``): a freshly built module of the same architecture to load into.

    Returns:
        :class:`LoadedRun` with ``config``, ``classifier`` (eval mode), ``betas``, ``codecs``,
        ``heads``, ``results`` and ``system(beta)``. Only ``weights_only=True`` loading is used.
        A run that was stopped early loads too: ``betas`` lists the β values it finished.
    """
    run_dir = os.fspath(run_dir)
    if not os.path.isdir(run_dir):
        raise FileNotFoundError(f"run_dir {run_dir!r} does not exist or is not a directory")
    config = read_run_config(run_dir)
    dev = resolve_device(device)
    results: dict = {}
    if os.path.isfile(os.path.join(run_dir, "results.json")):
        results = load_config_file(
            os.path.join(run_dir, "results.json")
        )  # any JSON object, checked
    sha: dict[str, str] = {}

    def fill(module: nn.Module, name: str, what: str) -> nn.Module:
        sha[name] = load_module_weights(module, os.path.join(run_dir, name), what)
        return module.to(dev).eval()

    cls_path = os.path.join(run_dir, "classifier.pt")
    if classifier is None:
        if results.get("task_network", "ResNet18") != "ResNet18":
            raise ValueError(
                f"{run_dir} was trained with a custom task network ({results['task_network']}): "
                "pass classifier= a freshly built module of that architecture"
            )
        fc = load_weights(cls_path, "classifier").get("fc.weight")
        if not isinstance(fc, torch.Tensor) or fc.dim() != 2:
            raise ValueError(f"classifier: {cls_path} is not a ResNet-18 state dict (no fc.weight)")
        classifier = build_classifier(config, int(fc.shape[0]))
    elif not isinstance(classifier, nn.Module):
        raise TypeError(f"classifier must be an nn.Module, got {type(classifier).__name__}")
    fill(classifier, "classifier.pt", "classifier")
    codecs = {"pretrained": fill(build_codec(config), "codec_pretrained.pt", "Alg.-3 codec")}
    heads: dict[str, nn.Module] = {}
    for b in config.betas:
        label = beta_label(b)
        if not os.path.isfile(os.path.join(run_dir, f"codec_{label}.pt")):
            continue
        codecs[label] = fill(build_codec(config), f"codec_{label}.pt", f"codec of {label}")
        if config.objective == "spics":
            n_classes = int(results.get("num_classes", 0)) or int(
                classifier.state_dict()["fc.weight"].shape[0]
            )
            heads[label] = fill(
                build_head(config, n_classes), f"head_{label}.pt", f"SPICS head of {label}"
            )
    return LoadedRun(config, classifier, codecs, heads, results, run_dir, sha)
