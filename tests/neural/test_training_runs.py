"""load_run round trip, the SPICS baseline, classifier_from / codec_from, safe loading of weights."""

import hashlib
import os

import pytest
import torch

from neural import load_run
from neural.config import make_config
from neural.data import load_dataset
from neural.models import SPICS, TOSCSR
from neural.training import derive_seed, evaluate_system, train


def tiny(out=None, **extra):
    """All stages in a few seconds on one core: 16x16 digits, 512 training images."""
    overrides = {
        "image_size": 16,
        "max_train_images": 512,
        "latent_channels": 4,
        "codec_width": 0.0625,
        "classifier_width": 0.0625,
        "snr_db": 10.0,
        "betas": [0.0, 1.0],
        "classifier": {"epochs": 2, "batch_size": 64, "lr": 3e-3, "lr_final": None},
        "codec": {"epochs": 2, "batch_size": 64, "lr": 3e-3, "lr_final": 1e-3},
        "tosc": {"epochs": 2, "batch_size": 64, "lr": 1e-3},
        "progress": False,
        "num_threads": 1,
        "out": None if out is None else str(out),
    }
    overrides.update(extra)
    return make_config("quick", overrides=overrides)


def _strip(metrics):
    return [{k: v for k, v in m.items() if not k.endswith("_s")} for m in metrics]


@pytest.fixture(scope="module")
def base_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("base") / "run"
    return out, train(tiny(out))


@pytest.fixture(scope="module")
def test_set():
    return load_dataset("digits", "test", image_size=16)


def _outputs(system, x, snr_db, seed):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        return system(x, snr_db, gen)


def test_load_run_round_trip(base_run, test_set):
    out, result = base_run
    run = load_run(out)
    assert run.config == result.config and run.betas == (0.0, 1.0) == result.betas
    assert not run.classifier.training and isinstance(run.system(1.0), TOSCSR)
    x = test_set.batch(torch.arange(16), "cpu")[0]
    for beta in (None, 0.0, 1.0):
        a, b = _outputs(result.system(beta), x, 3.0, 7), _outputs(run.system(beta), x, 3.0, 7)
        assert torch.equal(a.reconstruction, b.reconstruction) and torch.equal(
            a.logits, b.logits
        ), beta
        assert torch.equal(b.logits, run.classifier(b.reconstruction))  # cascade: classifier(x_hat)
    # evaluate_system reproduces the run's own test numbers (same noise seed)
    cfg = run.config
    got = evaluate_system(
        run.system(1.0),
        test_set,
        snr_db=cfg.snr_db,
        batch_size=cfg.eval_batch_size,
        seed=derive_seed(cfg.seed, 3),
    )
    want = result.results["runs"][1]
    for k in ("accuracy", "psnr", "ssim", "mse", "ce"):
        assert got[k] == pytest.approx(want[f"test_{k}"], rel=1e-12, abs=1e-12), k
    for name, digest in run.sha256.items():
        assert digest == hashlib.sha256((out / name).read_bytes()).hexdigest()
    with pytest.raises(ValueError, match=r"beta=0.5 was not trained.*\[0.0, 1.0\]"):
        run.system(0.5)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_run(out / "nowhere")
    with pytest.raises(ValueError, match="batch_size"):
        evaluate_system(run.system(1.0), test_set, snr_db=1.0, batch_size=0)
    with pytest.raises(ValueError, match="snr_db"):
        evaluate_system(run.system(1.0), test_set, snr_db=float("nan"))


def test_load_run_refuses_a_garbage_config_json(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="config.json' is not valid JSON"):
        load_run(tmp_path)
    (tmp_path / "config.json").write_text("[1]")
    with pytest.raises(ValueError, match="must hold a JSON object"):
        load_run(tmp_path)


def test_checkpoint_loads_with_weights_only(base_run):
    state = torch.load(base_run[0] / "checkpoint.pt", weights_only=True)
    assert (
        state["format"] == 2
        and state["stage"] == 3
        and isinstance(state["rng"]["numpy"]["key"], torch.Tensor)
    )


def test_classifier_from_and_codec_from_reproduce_the_full_run(base_run, tmp_path):
    out, full = base_run
    reused = train(tiny(tmp_path / "b", classifier_from=str(out)))
    assert reused.results["runs"] == full.results["runs"]
    assert reused.results["codec_pretrained"] == full.results["codec_pretrained"]
    assert [m["stage"] for m in reused.metrics] == ["codec"] * 2 + ["tosc"] * 4  # Alg. 2 skipped
    assert _strip(reused.metrics) == _strip(full.metrics[2:])
    src = reused.results["classifier"]
    assert src["sha256"] == hashlib.sha256((out / "classifier.pt").read_bytes()).hexdigest()
    assert src["test_accuracy"] == full.results["classifier"]["test_accuracy"]
    assert (tmp_path / "b" / "classifier.pt").read_bytes() == (out / "classifier.pt").read_bytes()
    both = train(
        tiny(
            tmp_path / "c",
            classifier_from=str(out / "classifier.pt"),
            codec_from=str(out / "codec_pretrained.pt"),
        )
    )
    assert [m["stage"] for m in both.metrics] == ["tosc"] * 4 and both.results[
        "runs"
    ] == full.results["runs"]
    keep = ("test_accuracy", "test_psnr", "test_ssim", "test_mse", "test_ce")
    assert {k: both.results["codec_pretrained"][k] for k in keep} == full.results[
        "codec_pretrained"
    ]
    assert load_run(tmp_path / "c").betas == (0.0, 1.0)


def test_reused_weights_are_checked_against_the_config(base_run):
    out = base_run[0]
    with pytest.raises(ValueError, match="classifier_width"):
        train(tiny(classifier_from=str(out), classifier_width=0.125))
    with pytest.raises(ValueError, match="latent_channels"):
        train(tiny(codec_from=str(out), latent_channels=8))
    with pytest.raises(FileNotFoundError, match="codec_pretrained.pt"):
        train(tiny(codec_from=str(out / "missing")))


def test_spics_trains_and_its_head_predicts(base_run, tmp_path, test_set):
    out = base_run[0]
    cfg = tiny(
        tmp_path / "s",
        objective="spics",
        betas=[1.0],
        classifier_from=str(out),
        max_train_images=1437,
        codec_width=0.125,
        codec={"epochs": 1},
        tosc={"epochs": 5, "batch_size": 32, "lr": 3e-3},
        head_lr=1e-2,
    )
    result = train(cfg)
    system = result.system(1.0)
    assert isinstance(system, SPICS) and system.head is result.heads["beta=1"]
    accs = [m.get("train_accuracy") for m in result.metrics]
    assert [m["stage"] for m in result.metrics] == ["codec"] + ["spics"] * 5 and accs[-1] > accs[
        1
    ] + 0.2
    res = result.results["runs"][0]
    assert (
        res["test_accuracy"] > 0.35
    )  # chance is 0.1 (0.51 measured): the head on 16 received bits classifies
    x = test_set.batch(torch.arange(16), "cpu")[0]
    o = _outputs(system, x, 10.0, 3)
    gen = torch.Generator().manual_seed(3)
    with torch.no_grad():
        z_hat = system.codec.channel(system.codec.bits(x), 10.0, gen)
        assert torch.equal(o.logits, system.head(z_hat)) and torch.equal(
            o.reconstruction, system.codec.decoder(z_hat)
        )
    run = load_run(tmp_path / "s")
    assert run.betas == (1.0,) and sorted(os.listdir(tmp_path / "s")).count("head_beta=1.pt") == 1
    b = _outputs(run.system(1.0), x, 10.0, 3)
    assert torch.equal(o.logits, b.logits) and torch.equal(o.reconstruction, b.reconstruction)
    with pytest.raises(ValueError, match="objective 'spics' needs every beta > 0"):
        tiny(objective="spics", betas=[0.0])


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_weights_that_run_code_are_refused(base_run, tmp_path):
    marker = tmp_path / "pwned"
    evil_dir = tmp_path / "evil"
    evil_dir.mkdir()
    for name in ("classifier.pt", "codec_pretrained.pt"):
        torch.save({"fc.weight": _Evil(marker)}, evil_dir / name)
    (evil_dir / "config.json").write_text((base_run[0] / "config.json").read_text())
    with pytest.raises(ValueError, match="weights_only=True"):
        load_run(evil_dir)
    with pytest.raises(ValueError, match="weights_only=True"):
        train(tiny(classifier_from=str(evil_dir / "classifier.pt")))
    assert not marker.exists()
