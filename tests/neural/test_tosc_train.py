"""End-to-end training (Algorithms 1-3): loss falls, files, resume equality, CLI, DDP."""

import json
import math
import os
import socket

import pytest
import torch

from neural.config import (
    TrainConfig,
    channels_for_bpp,
    config_from_dict,
    config_to_dict,
    make_config,
)
from neural.train import main, train


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """One torch thread for these small networks (the CPU is shared); restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny(out=None, **extra):
    """A configuration small enough to train all stages in seconds on one core."""
    overrides = {
        "image_size": 16,
        "latent_channels": 4,
        "codec_width": 0.0625,
        "classifier_width": 0.0625,
        "snr_db": 10.0,
        "betas": [0.0, 1.0],
        "classifier": {"epochs": 1, "batch_size": 64, "lr": 3e-3, "lr_final": None},
        "codec": {"epochs": 3, "batch_size": 64, "lr": 3e-3, "lr_final": 1e-3},
        "tosc": {"epochs": 2, "batch_size": 64, "lr": 1e-3},
        "progress": False,
        "num_threads": 1,
        "out": None if out is None else str(out),
    }
    overrides.update(extra)
    return make_config("quick", overrides=overrides)


class _Crash(Exception):
    pass


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    """One uninterrupted tiny run, shared by the tests below."""
    tmp_path = tmp_path_factory.mktemp("full")
    return tmp_path, train(tiny(tmp_path / "run"))


def test_end_to_end_loss_falls_and_files(full_run):
    tmp_path, result = full_run
    codec_losses = [m["train_loss"] for m in result.metrics if m["stage"] == "codec"]
    assert codec_losses[-1] < 0.8 * codec_losses[0]
    assert [m["stage"] for m in result.metrics] == ["classifier"] + ["codec"] * 3 + ["tosc"] * 4
    run = tmp_path / "run"
    for name in (
        "config.json",
        "metrics.jsonl",
        "checkpoint.pt",
        "classifier.pt",
        "codec_pretrained.pt",
        "codec_beta=0.pt",
        "codec_beta=1.pt",
        "results.json",
        "reconstructions.png",
    ):
        assert (run / name).is_file(), name
    res = json.loads((run / "results.json").read_text())
    assert res == json.loads(json.dumps(result.results))
    assert res["bpp"] == 4 / 64 and [r["beta"] for r in res["runs"]] == [0.0, 1.0]
    assert all(
        0 <= r["test_accuracy"] <= 1 and r["test_psnr"] > 5 and -1 < r["test_ssim"] <= 1
        for r in res["runs"]
    )
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 8
    assert config_from_dict(json.loads((run / "config.json").read_text())) == tiny(run)
    assert not [p for p in os.listdir(run) if p.startswith(".tmp-")]
    with pytest.raises(FileExistsError, match="resume"):
        train(tiny(run))


@pytest.mark.parametrize("crash_at", [("codec", None, 2), ("tosc", 0.0, 2)])
def test_resume_reproduces_uninterrupted_run(tmp_path, crash_at, full_run):
    full = full_run[1]

    def crash(stage, beta, epoch):
        if (stage, beta, epoch) == crash_at:
            raise _Crash

    with pytest.raises(_Crash):
        train(tiny(tmp_path / "cut"), on_checkpoint=crash)
    assert not (tmp_path / "cut" / "results.json").exists()
    resumed = train(tiny(tmp_path / "cut", resume=True))
    assert resumed.results == full.results
    strip = lambda ms: [{k: v for k, v in m.items() if not k.endswith("_s")} for m in ms]  # noqa: E731
    assert strip(resumed.metrics) == strip(full.metrics)
    for name in full.codecs:
        for (k, a), b in zip(
            full.codecs[name].state_dict().items(), resumed.codecs[name].state_dict().values()
        ):
            assert torch.equal(a, b), (name, k)
    lines = (tmp_path / "cut" / "metrics.jsonl").read_text().splitlines()
    assert strip([json.loads(s) for s in lines]) == strip(full.metrics)


def test_custom_classifier_plugs_in():
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, stride=2),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(4 * 7 * 7, 10),
    )  # 16x16 input -> 7x7
    result = train(tiny(betas=[1.0], codec={"epochs": 1}, tosc={"epochs": 1}), classifier=net)
    assert result.classifier is net and result.results["classifier"]["test_accuracy"] > 0.5
    with pytest.raises(TypeError, match="nn.Module"):
        train(tiny(), classifier="resnet")


def test_resume_rejects_changed_config(tmp_path):
    def crash(stage, beta, epoch):
        raise _Crash

    with pytest.raises(_Crash):
        train(tiny(tmp_path), on_checkpoint=crash)
    with pytest.raises(ValueError, match="latent_channels"):
        train(tiny(tmp_path, resume=True, latent_channels=8))


def test_config_validation_and_bpp():
    assert channels_for_bpp(2) == 128 and channels_for_bpp(0.125) == 8
    with pytest.raises(ValueError, match="bpp=0.01"):
        channels_for_bpp(0.01)
    with pytest.raises(ValueError, match="down-sampled by 8"):
        make_config("quick", overrides={"image_size": 36})
    with pytest.raises(ValueError, match="needs data_dir"):
        make_config("paper")
    with pytest.raises(ValueError, match="unknown configuration key 'bata'"):
        make_config("quick", overrides={"bata": 1})
    with pytest.raises(ValueError, match="classifier.batch_size=32 exceeds max_train_images=8"):
        make_config("quick", overrides={"max_train_images": 8})
    # a stage skipped by classifier_from trains nothing: its batch size is not checked
    assert (
        make_config(
            "quick",
            overrides={
                "max_train_images": 8,
                "classifier_from": "x",
                "codec": {"batch_size": 8},
                "tosc": {"batch_size": 8},
            },
        ).max_train_images
        == 8
    )
    with pytest.raises(ValueError, match="codec.epochs"):
        make_config("quick", overrides={"codec": {"epochs": 0}})
    with pytest.raises(ValueError, match="beta"):
        make_config("quick", overrides={"betas": [-1.0]})
    with pytest.raises(ValueError, match="objective 'ib'"):
        make_config("quick", overrides={"objective": "ib", "betas": [0.0, 1.0]})
    with pytest.raises(ValueError, match="train_snr_range"):
        make_config("quick", overrides={"train_snr_range": [20.0, -5.0]})
    with pytest.raises(ValueError, match="resume needs out"):
        make_config("quick", overrides={"resume": True})
    with pytest.raises(ValueError, match="batch_size=2000 exceeds"):
        train(tiny(classifier={"batch_size": 2000}))
    paper = make_config("paper", overrides={"data_dir": "/x"})
    assert (paper.classifier.lr, paper.codec.lr, paper.codec.lr_final, paper.tosc.lr) == (
        1e-3,
        1e-4,
        1e-6,
        3e-6,
    )
    assert (paper.classifier.epochs, paper.codec.epochs, paper.tosc.epochs) == (1000, 5000, 1000)
    assert (paper.classifier.batch_size, paper.codec.batch_size, paper.codec.weight_decay) == (
        16,
        32,
        1e-5,
    )
    cfg = make_config("quick", overrides={"snr_db": math.inf})
    assert config_to_dict(cfg)["snr_db"] == "inf" and config_from_dict(config_to_dict(cfg)) == cfg
    assert isinstance(cfg, TrainConfig)


def test_cli_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for flag in (
        "--preset",
        "--config",
        "--beta",
        "--snr-db",
        "--bpp",
        "--channels",
        "--resume",
        "--data-dir",
        "--objective",
        "--classifier-from",
        "--codec-from",
        "--head-lr",
    ):
        assert flag in text


def test_cli_errors(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "--dataset",
                "stl10",
                "--data-dir",
                str(tmp_path / "missing"),
                "--out",
                str(tmp_path / "o"),
            ]
        )
    assert exc.value.code == 2
    assert "missing' for dataset 'stl10' does not exist" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit):
        main(["--dataset", "cifar10", "--data-dir", str(tmp_path / "empty")])
    assert "cifar10: missing file(s)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--image-size", "20"])
    assert "down-sampled by 8" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--bpp", "0.3"])
    assert "bpp=0.3" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--bpp", "1", "--channels", "4"])
    with pytest.raises(SystemExit):
        main(["--classifier-from", str(tmp_path / "nope")])
    assert "--classifier-from: no weights file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--objective", "spics", "--beta", "0"])
    assert "objective 'spics' needs every beta > 0" in capsys.readouterr().err


def test_cli_runs_with_config_file(tmp_path, capsys):
    cfg = config_to_dict(tiny())
    cfg["betas"] = [0.5]
    for key in ("out", "resume", "device"):
        cfg.pop(key)
    (tmp_path / "c.json").write_text(json.dumps(cfg))
    out = tmp_path / "out"
    assert (
        main(
            [
                "--config",
                str(tmp_path / "c.json"),
                "--snr-db",
                "inf",
                "--bpp",
                "0.125",
                "--out",
                str(out),
                "--codec-epochs",
                "1",
                "--seed",
                "3",
                "--channel",
                "rayleigh",
                "--train-snr-range",
                "-5",
                "20",
                "--objective",
                "ib",
            ]
        )
        == 0
    )
    res = json.loads((out / "results.json").read_text())
    assert res["snr_db"] == "inf" and res["bpp"] == 0.125 and res["latent_channels"] == 8
    assert [r["beta"] for r in res["runs"]] == [0.5]
    saved = json.loads((out / "config.json").read_text())
    assert saved["seed"] == 3 and saved["codec"]["epochs"] == 1 and saved["codec"]["lr"] == 3e-3
    assert (
        saved["channel"] == "rayleigh"
        and saved["train_snr_range"] == [-5.0, 20.0]
        and saved["objective"] == "ib"
    )
    assert "beta=0.5" in capsys.readouterr().out


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ddp_worker(rank, world, port, out):
    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        RANK=str(rank),
        WORLD_SIZE=str(world),
        LOCAL_RANK=str(rank),
    )
    torch.set_num_threads(1)
    cfg = tiny(
        out,
        device="cpu",
        betas=[0.0, 1.0],
        codec={"epochs": 1, "batch_size": 32},
        tosc={"epochs": 1, "batch_size": 32},
    )
    result = train(cfg)
    torch.save(
        {
            "codec": result.codecs["beta=1"].state_dict(),
            "classifier": result.classifier.state_dict(),
            "results": result.results,
            "metrics": result.metrics,
        },
        os.path.join(os.path.dirname(out), f"rank{rank}.pt"),
    )


def test_ddp_two_processes_on_cpu(tmp_path):
    out = str(tmp_path / "run")
    torch.multiprocessing.spawn(_ddp_worker, args=(2, _free_port(), out), nprocs=2, join=True)
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=False) for r in range(2))
    for part in (
        "codec",
        "classifier",
    ):  # DDP keeps the replicas identical (BatchNorm statistics included)
        for k, a in r0[part].items():
            assert torch.equal(a, r1[part][k]), (part, k)
    assert r0["results"] == r1["results"]  # metrics are all-reduced over both shards
    assert r0["metrics"][0]["images"] == (1437 // 2 // 64) * 64 * 2  # both ranks' images counted
    assert [
        r["beta"] for r in json.loads((tmp_path / "run" / "results.json").read_text())["runs"]
    ] == [0.0, 1.0]


@pytest.mark.slow
def test_sigkill_then_resume_from_command_line(tmp_path):
    """A real process killed with SIGKILL mid-run, resumed from the command line."""
    import signal
    import subprocess
    import sys
    import time

    cfg = config_to_dict(tiny())
    for key in ("out", "resume", "device"):
        cfg.pop(key)
    (tmp_path / "c.json").write_text(json.dumps(cfg))
    base = [sys.executable, "-m", "neural.train", "--config", str(tmp_path / "c.json")]
    cut = tmp_path / "cut"
    proc = subprocess.Popen(
        base + ["--out", str(cut)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 120
    while (
        time.time() < deadline
        and len(
            (cut / "metrics.jsonl").read_text().splitlines()
            if (cut / "metrics.jsonl").exists()
            else []
        )
        < 3
    ):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (cut / "results.json").exists()
    subprocess.run(
        base + ["--out", str(cut), "--resume"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    subprocess.run(
        base + ["--out", str(tmp_path / "full")],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert json.loads((cut / "results.json").read_text()) == json.loads(
        (tmp_path / "full" / "results.json").read_text()
    )
