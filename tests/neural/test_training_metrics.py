"""The metrics every figure rests on, against scikit-image; the metric accumulators."""

import numpy as np
import pytest
import torch

from neural.metrics import SSIM_K1, SSIM_K2, SSIM_SIGMA, SSIM_WINDOW, psnr, ssim
from neural.training.meters import MeanMetric, MetricCollection

skm = pytest.importorskip("skimage.metrics")


def _fixtures():
    """(x, y) pairs in [0, 1], float32: noise, blur-like structure, an offset/contrast change, a
    rectangular image, a near-constant image (small variances: the c1/c2 terms matter)."""
    rng = np.random.default_rng(0)
    out = []
    x = rng.random((3, 3, 32, 32))
    out.append((x, np.clip(x + 0.1 * rng.standard_normal(x.shape), 0, 1)))
    out.append((x, 0.5 * x + 0.2))
    smooth = np.cumsum(rng.random((2, 3, 16, 24)), axis=-1) / 24
    out.append((smooth, np.clip(smooth[..., ::-1] * 0.9 + 0.05, 0, 1)))
    flat = 0.5 + 0.01 * rng.random((2, 3, 11, 13))
    out.append((flat, flat + 0.005 * rng.standard_normal(flat.shape)))
    return [(a.astype(np.float32), b.astype(np.float32)) for a, b in out]


@pytest.mark.parametrize("case", range(4))
def test_psnr_and_ssim_agree_with_scikit_image(case):
    x, y = _fixtures()[case]
    got_psnr = psnr(torch.from_numpy(x), torch.from_numpy(y)).numpy()
    got_ssim = ssim(torch.from_numpy(x), torch.from_numpy(y)).numpy()
    for i in range(x.shape[0]):
        a, b = x[i].astype(np.float64), y[i].astype(np.float64)
        want_psnr = skm.peak_signal_noise_ratio(a, b, data_range=1.0)
        # Wang et al. (2004) settings, as documented in neural.metrics
        want_ssim = skm.structural_similarity(
            a,
            b,
            data_range=1.0,
            channel_axis=0,
            gaussian_weights=True,
            sigma=SSIM_SIGMA,
            use_sample_covariance=False,
            win_size=SSIM_WINDOW,
            K1=SSIM_K1,
            K2=SSIM_K2,
        )
        assert abs(float(got_psnr[i]) - want_psnr) <= 1e-6, (i, got_psnr[i], want_psnr)
        assert abs(float(got_ssim[i]) - want_ssim) <= 1e-6, (i, got_ssim[i], want_ssim)


def test_mean_metric_weighted_and_per_sample():
    m = MeanMetric()
    m.update(torch.tensor([1.0, 2.0, 3.0]))
    m.update(torch.tensor(10.0), weight=2)  # a batch mean standing for 2 samples
    assert m.count == 5 and m.compute() == pytest.approx((1 + 2 + 3 + 20) / 5, rel=1e-15)
    m.reset()
    with pytest.raises(ValueError, match="no samples"):
        m.compute()
    with pytest.raises(ValueError, match="weight"):
        m.update(torch.tensor(1.0))
    with pytest.raises(ValueError, match="weight"):
        m.update(torch.ones(3), weight=3)


def test_metric_collection_compute_and_names():
    c = MetricCollection(("loss", "accuracy"))
    c["loss"].update(torch.tensor([0.5, 1.5]))
    assert c.compute() == {"loss": 1.0} and "accuracy" in c  # metrics without samples are left out
    c.sync()  # no process group: a no-op
    assert c.compute() == {"loss": 1.0}
    with pytest.raises(ValueError, match="distinct"):
        MetricCollection(("a", "a"))


def _sync_worker(rank, world, port, out):
    import os

    import torch.distributed as dist

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    c = MetricCollection(("a", "b"))
    c["a"].update(torch.arange(rank + 1, dtype=torch.float32))  # rank 0: [0]; rank 1: [0, 1]
    c["b"].update(torch.tensor(float(rank)), weight=3)
    c.sync()
    torch.save(c.compute(), os.path.join(out, f"{rank}.pt"))
    dist.destroy_process_group()


@pytest.mark.slow  # 30 s of process start-up; the DDP training test covers sync in the fast suite
def test_metric_collection_sync_across_two_processes(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    torch.multiprocessing.spawn(_sync_worker, args=(2, port, str(tmp_path)), nprocs=2, join=True)
    for r in range(2):
        got = torch.load(tmp_path / f"{r}.pt", weights_only=True)
        assert got == {"a": pytest.approx(1 / 3, rel=1e-15), "b": pytest.approx(0.5, rel=1e-15)}


@pytest.mark.parametrize("data_range", [0.0, -1.0, float("nan"), float("inf")])
def test_psnr_and_ssim_refuse_a_bad_data_range(data_range):
    x = torch.rand(1, 1, 11, 11)
    for f in (psnr, ssim):
        with pytest.raises(ValueError, match="data_range must be a positive finite number"):
            f(x, x * 0.5, data_range=data_range)


def test_evaluate_system_refuses_nan_outputs():
    from torch import nn

    from neural.data.datasets import ImageDataset
    from neural.training import evaluate_system

    class Diverged(nn.Module):  # a system whose reconstruction is NaN (e.g. NaN weights)
        def forward(self, x, snr_db, generator=None):
            return torch.full_like(x, float("nan")), torch.zeros(x.shape[0], 2)

    data = ImageDataset(torch.rand(4, 1, 16, 16), torch.zeros(4, dtype=torch.int64), 2, "toy")
    with pytest.raises(FloatingPointError, match="NaN for.*psnr"):
        evaluate_system(Diverged(), data, snr_db=0.0, batch_size=2)
