"""neural.experiments sweeps on tiny trainings: resume after a kill, the dask path, the cliff,
the visual experiment, the report and the paper preset on a tiny STL-10 file."""

import itertools
import json
import math
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import torch

from neural.experiments import (
    InlineExecutor,
    build_jobs,
    load_results,
    make_spec,
    run_experiment,
)
from neural.experiments.cli import main
from neural.experiments.results import ROW_FIELDS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# A tiny training: 16x16 digits, 32 images, one epoch per stage (the plumbing, not the numbers,
# is under test). Every run uses one torch thread so that rows compare exactly.
TINY = {
    "image_size": 16,
    "max_train_images": 32,
    "eval_batch_size": 360,
    "classifier": {"epochs": 1, "batch_size": 16},
    "codec": {"epochs": 1, "batch_size": 16},
    "tosc": {"epochs": 1, "batch_size": 16},
}
TINY_ARGS = ["--threads-per-job", "1"] + [
    a
    for k, v in TINY.items()
    for a in (
        ["--override", f"{k}={v}"]
        if not isinstance(v, dict)
        else [x for f, w in v.items() for x in ("--override", f"{k}.{f}={w}")]
    )
]
SPEC = {"methods": ["rd", "tosc", "spics", "jpeg"], "bpps": [2.0], "headers": ["payload"]}
SMALL = {
    "methods": ["rd", "jpeg"],
    "bpps": [2.0],
    "headers": ["payload"],
}  # a subset of SPEC's jobs
METRICS = ["accuracy", "psnr", "ssim", "mse", "ce", "failure_rate"]


def _small():
    return make_spec("bpp", "quick", train_overrides=TINY, **SMALL)


def _metrics(rows, methods=None):
    return [
        (r["method"], r["header"], [r[m] for m in METRICS])
        for r in rows
        if methods is None or r["method"] in methods
    ]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The bpp experiment through the command line with two local worker processes."""
    out = tmp_path_factory.mktemp("ref")
    argv = [
        "bpp",
        "--out",
        str(out),
        "--methods",
        *SPEC["methods"],
        "--bpp",
        "2",
        "--headers",
        "payload",
        "--jobs",
        "2",
        "--no-progress",
        *TINY_ARGS,
    ]
    assert main(argv) == 0
    return out


def test_cli_writes_the_results_files(reference):
    res = load_results(str(reference))
    rows = res["rows"]
    assert [r["method"] for r in rows] == ["rd", "tosc", "spics", "jpeg"]
    assert all(
        r["bpp"] == 2.0 and r["snr_db"] == math.inf and r["seed"] == 0 and r["images"] == 360
        for r in rows
    )
    assert rows[0]["beta"] == 0.0 and rows[1]["beta"] == 0.1 and math.isnan(rows[3]["beta"])
    assert (
        all(math.isnan(r["failure_rate"]) for r in rows[:3]) and 0 <= rows[3]["failure_rate"] <= 1
    )
    assert rows[3]["header"] == "payload" and rows[3]["capacity"] == "bpsk"
    for r in rows:
        assert 0 <= r["accuracy"] <= 1 and 0 < r["ssim"] <= 1 and r["mse"] > 0
        # mean per-image PSNR >= PSNR of the mean MSE (Jensen: -log is convex)
        assert r["psnr"] >= 10 * math.log10(1 / r["mse"]) - 1e-9
    prov = res["provenance"]
    for key in (
        "package_version",
        "git",
        "torch",
        "numpy",
        "command",
        "experiment",
        "jobs_detail",
        "elapsed_s",
    ):
        assert key in prov
    assert prov["command"].startswith("python -m neural.experiments bpp --out")
    assert prov["jobs"] == 2 and prov["threads_per_job"] >= 1 and prov["jobs_ran"] == 4
    assert 0 < prov["classifier_accuracy"]["0"] <= 1
    df = pd.read_csv(reference / "results.csv")
    assert list(df.columns) == list(ROW_FIELDS) and len(df) == 4 and np.isinf(df["snr_db"]).all()
    assert (reference / "fig4_bpp.png").read_bytes()[:4] == b"\x89PNG"
    # every JSCC method starts from the same classifier and the rd run's Alg.-3 codec
    specs = {d["spec"]["method"]: d["spec"] for d in prov["jobs_detail"]}
    assert specs["rd"]["classifier_run"] is None and specs["rd"]["codec_run"] is None
    assert (
        specs["tosc"]["classifier_run"]
        == specs["spics"]["classifier_run"]
        == specs["jpeg"]["classifier_run"]
    )
    assert (
        specs["tosc"]["codec_run"] == specs["spics"]["codec_run"] == specs["tosc"]["classifier_run"]
    )


def test_resume_after_kill_skips_finished_jobs(reference, tmp_path):
    class Killed(Exception):
        pass

    def kill_after_first(job, record):
        raise Killed(job.key)

    with pytest.raises(Killed):
        run_experiment(
            _small(),
            str(tmp_path),
            executor=InlineExecutor(),
            threads=1,
            progress=False,
            on_job_done=kill_after_first,
        )
    finished = sorted(os.listdir(tmp_path / "jobs"))
    assert [f for f in finished if f.endswith(".json")] and not (tmp_path / "results.json").exists()
    first = next(f for f in finished if f.endswith(".json"))
    stamp = os.stat(tmp_path / "jobs" / first).st_mtime_ns
    result = run_experiment(
        _small(), str(tmp_path), executor=InlineExecutor(), threads=1, progress=False
    )
    assert (result.jobs_skipped, result.jobs_ran) == (1, 1)
    assert os.stat(tmp_path / "jobs" / first).st_mtime_ns == stamp
    assert _metrics(result.rows) == _metrics(load_results(str(reference))["rows"], SMALL["methods"])
    again = run_experiment(
        _small(), str(tmp_path), executor=InlineExecutor(), threads=1, progress=False
    )
    assert (again.jobs_skipped, again.jobs_ran) == (2, 0) and _metrics(again.rows) == _metrics(
        result.rows
    )


@pytest.mark.slow
def test_killed_training_resumes_from_its_checkpoint(reference, tmp_path):
    """SIGKILL a worker mid-training; the rerun resumes that training and matches the uninterrupted rows."""
    spec = make_spec(
        "bpp",
        "quick",
        methods=["rd"],
        bpps=[2.0],
        train_overrides={
            **TINY,
            "classifier": {"epochs": 4, "batch_size": 16},
            "codec": {"epochs": 4, "batch_size": 16},
        },
    )
    job = build_jobs(spec)[0]
    code = (
        "import sys, json; from neural.experiments import execute_job, Runtime; "
        "execute_job(json.loads(sys.argv[1]), Runtime(out=sys.argv[2], threads=1).as_dict())"
    )
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(
        [sys.executable, "-c", code, json.dumps(job.spec), str(tmp_path)], env=env
    )
    ckpt = tmp_path / "runs" / job.run_id / "checkpoint.pt"
    deadline = time.time() + 300
    while not ckpt.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert ckpt.exists() and not (tmp_path / "jobs" / f"{job.key}.json").exists(), (
        "the kill came too late"
    )
    state = torch.load(ckpt, weights_only=True)
    result = run_experiment(
        spec, str(tmp_path), executor=InlineExecutor(), threads=1, progress=False
    )
    assert (result.jobs_skipped, result.jobs_ran) == (0, 1)
    fresh = run_experiment(
        spec, str(tmp_path / "fresh"), executor=InlineExecutor(), threads=1, progress=False
    )
    assert _metrics(result.rows) == _metrics(fresh.rows)
    assert state is not None


def test_dask_local_cluster_gives_the_local_rows(reference, tmp_path):
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cl,
        distributed.Client(cl) as client,
    ):
        result = run_experiment(
            _small(), str(tmp_path), executor=client.get_executor(), threads=1, progress=False
        )
    assert result.jobs_ran == 2
    assert _metrics(result.rows) == _metrics(load_results(str(reference))["rows"], SMALL["methods"])


def test_report_from_runs(reference, tmp_path):
    to = tmp_path / "docs" / "results.md"
    assert main(["report", str(reference), "--to", str(to)]) == 0
    text = to.read_text()
    assert (
        "python -m neural.experiments report" in text and "python -m neural.experiments bpp" in text
    )
    assert "| rd | — | 2 | inf |" in text and "header policy" in text
    assert (tmp_path / "docs" / "figures" / "results-fig4_bpp.png").is_file()
    assert "](figures/results-fig4_bpp.png)" in text


def _mean_floor_psnr(images):
    u8 = np.rint(images.numpy().astype(np.float64) * 255)
    means = (
        np.rint(u8[:, :1].mean(axis=(2, 3), keepdims=True)) / 255
    )  # grey digits: one coded channel
    mse = ((images.numpy().astype(np.float64) - means) ** 2).reshape(len(u8), -1).mean(1)
    return float(np.mean(10 * np.log10(1 / mse)))


def test_cliff_effect_on_the_quick_preset(tmp_path):
    """Below some SNR the JPEG link loses every image (mean-image floor); TOSC-SR degrades smoothly."""
    from neural.data import load_dataset

    overrides = {**TINY, "max_train_images": 512, "codec": {"epochs": 2, "batch_size": 32}}
    grid = [-10.0, -5.0, 0.0, 5.0, 10.0, 20.0]
    spec = make_spec(
        "snr",
        "quick",
        methods=["tosc", "jpeg"],
        bpps=[2.0],
        headers=["payload"],
        eval_snrs=grid,
        train_overrides=overrides,
    )
    rows = run_experiment(
        spec, str(tmp_path), executor=InlineExecutor(), threads=1, progress=False
    ).rows
    jpeg = {r["snr_db"]: r for r in rows if r["method"] == "jpeg"}
    tosc = {r["snr_db"]: r for r in rows if r["method"] == "tosc"}
    floor = _mean_floor_psnr(load_dataset("digits", "test", image_size=16).images)
    assert jpeg[-10.0]["failure_rate"] == 1.0 and jpeg[-10.0]["psnr"] == pytest.approx(
        floor, abs=1e-3
    )
    assert jpeg[20.0]["failure_rate"] == 0.0 and jpeg[20.0]["psnr"] > floor + 3
    jpeg_drops = [jpeg[b]["psnr"] - jpeg[a]["psnr"] for a, b in itertools.pairwise(grid)]
    tosc_drops = [tosc[b]["psnr"] - tosc[a]["psnr"] for a, b in itertools.pairwise(grid)]
    assert max(jpeg_drops) > 3.0  # the cliff: one SNR step costs more than 3 dB
    assert max(abs(d) for d in tosc_drops) < max(jpeg_drops) / 2
    assert tosc[-10.0]["psnr"] > floor  # at the low end TOSC-SR stays above the digital floor


def test_visual_experiment(tmp_path):
    spec = make_spec(
        "visual",
        "quick",
        methods=["rd", "jpeg"],
        bpps=[2.0],
        headers=["payload", "full"],
        visual_images=3,
        train_overrides=TINY,
    )
    result = run_experiment(
        spec, str(tmp_path), executor=InlineExecutor(), threads=1, progress=False
    )
    rows = result.rows
    assert [(r["method"], r["header"], r["image"]) for r in rows] == [
        (m, h, float(i))
        for m, h in (("rd", ""), ("jpeg", "payload"), ("jpeg", "full"))
        for i in range(3)
    ]
    from neural.data import load_dataset

    labels = load_dataset("digits", "test").labels[:3].tolist()
    for r in rows:
        assert r["label"] == labels[int(r["image"])] and 0 < r["confidence"] <= 1
        assert r["accuracy"] == float(r["prediction"] == r["label"])
    full = [r for r in rows if r["header"] == "full"]
    assert all(
        r["failure_rate"] == 1.0 for r in full
    )  # 64 bytes cannot hold a JPEG file with its headers
    assert (tmp_path / "fig5_visual.png").read_bytes()[:4] == b"\x89PNG"


def _write_stl(d, split, n, rng):
    imgs = rng.integers(0, 256, (n, 3, 96, 96), dtype=np.uint8)
    imgs.transpose(0, 1, 3, 2).tofile(d / f"{split}_X.bin")
    rng.integers(1, 11, n).astype(np.uint8).tofile(d / f"{split}_y.bin")


@pytest.mark.slow
def test_paper_preset_runs_on_a_tiny_stl10_file(tmp_path):
    rng = np.random.default_rng(0)
    data = tmp_path / "stl10_binary"
    data.mkdir()
    _write_stl(data, "train", 32, rng)
    _write_stl(data, "test", 4, rng)
    out = tmp_path / "out"
    argv = [
        "bpp",
        "--preset",
        "paper",
        "--data-dir",
        str(tmp_path),
        "--out",
        str(out),
        "--methods",
        "rd",
        "jpeg",
        "--bpp",
        "0.125",
        "--headers",
        "payload",
        "--executor",
        "inline",
        "--no-progress",
        "--override",
        "max_train_images=32",
    ] + [
        a
        for st in ("classifier", "codec", "tosc")
        for a in ("--override", f"{st}.epochs=1", "--override", f"{st}.batch_size=16")
    ]
    assert main(argv) == 0
    res = load_results(str(out))
    assert [r["method"] for r in res["rows"]] == ["rd", "jpeg"] and all(
        r["images"] == 4 for r in res["rows"]
    )
    cfg = res["provenance"]["jobs_detail"][0]["spec"]["config"]
    assert (
        cfg["dataset"] == "stl10"
        and cfg["classifier_stem"] == "imagenet"
        and cfg["codec"]["lr"] == 1e-4
    )
    assert res["provenance"]["experiment"]["preset"] == "paper"
