"""Command line: ``python -m infotheory [demo | curve | family | ib] ...``.

- ``python -m infotheory`` (no arguments) or ``python -m infotheory demo``: the
  fresh-machine check. Prints a table of the binary source's R(D) against its
  closed form ``h(p) − h(D)`` and a semantic R-D example, and writes
  ``theoretical_curves.png`` to ``--out`` (default ``./demo_output``).
- ``curve``: semantic R-D curves over λ for one or more β (built-in source or
  ``.npz`` arrays); table on stdout, CSV/JSON and PNGs under ``--out``.
- ``family``: a sweep over β at fixed λ or fixed rate (cf. the paper's Fig. 9).
- ``ib``: the information-bottleneck curve (information plane) with its phase
  transitions located.

The solver options (``--tol``, ``--max-iter``, ``--base``, ``--no-accelerate``) default
to those of :class:`infotheory.options.SolverOptions`, as in the Python API. The
independent jobs of a command run in this process, in ``--jobs N`` local processes,
or on a ``dask.distributed`` cluster (``--scheduler ADDRESS``); every way gives the
same numbers (``docs/curves.md``). The parser and its flags are in
:mod:`infotheory._cli_parser`, the demo in :mod:`infotheory.demo`.

Errors in arguments or files print one line ``infotheory: error: ...`` naming the
flag (``--grid``, ``--label-error``, ...) on stderr and exit with status 2; an
``--out`` directory that cannot be written is refused before any work starts.
:func:`main` takes ``argv`` and returns the exit status, so it is testable
in-process. Long work shows a tqdm progress bar on stderr (``--progress`` always,
``--no-progress`` never; default: on a terminal, after 2 s). CSV files are plain
(``pandas.read_csv(path)`` reads them without options); provenance and metadata go
to the JSON files beside them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

import numpy as np

from ._cli_parser import UsageError, build_parser
from .demo import run_demo
from .problem import Problem
from .sources import Source

if TYPE_CHECKING:  # the curves package is imported by the commands that use it
    from .curves import Curve

__all__ = ["main"]

EXIT_USAGE = 2


#: internal argument names (first word of a library error) -> the flag a user typed
_SOURCE_FLAGS = {
    "n_points": "--grid",
    "error": "--label-error",
    "label_error": "--label-error",
    "p": "--p",
    "variance": "--variance",
    "n_samples": "--samples",
    "n_codebook": "--codebook",
}
_COMMON_FLAGS = {
    "tol": "--tol",
    "gap_tol": "--tol",
    "max_iter": "--max-iter",
    "base": "--base",
    "seed": "--seed",
    "n_jobs": "--jobs",
    "accelerate": "--no-accelerate",
    "restarts": "--restarts",
    "lam_range": "--lam-min/--lam-max",
    "lams": "--lams",
    "beta": "--beta",
    "betas": "--betas",
    "lam": "--lam",
    "rate": "--rate",
    "n_clusters": "--clusters",
    "beta_ib_range": "--beta-ib-min/--beta-ib-max",
    "max_rows": "--max-rows",
}


@contextlib.contextmanager
def _flags(names: Mapping[str, str]) -> Iterator[None]:
    """Re-raise a library ``ValueError``/``TypeError`` whose message starts with an
    argument name in ``names`` with that name replaced by its command-line flag."""
    try:
        yield
    except (ValueError, TypeError) as exc:
        msg = str(exc)
        m = re.match(r"(target )?([A-Za-z_]+)\b", msg)
        if m and m.group(2) in names:
            msg = names[m.group(2)] + msg[m.end(2) :]  # "target rate 9 ..." -> "--rate 9 ..."
            raise type(exc)(msg) from None
        raise


def _check_out(out: str | None) -> None:
    """Fail before any work when ``--out`` cannot be created or written."""
    if not out:
        return
    try:
        os.makedirs(out, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise ValueError(f"--out {out}: cannot write there ({exc.strerror or exc})") from None


@contextlib.contextmanager
def _executor(args: argparse.Namespace) -> Iterator[Executor | None]:
    """The executor of ``--scheduler`` (a dask.distributed client's), else None (the
    library then uses ``--jobs``)."""
    if not args.scheduler:
        yield None
        return
    if args.jobs != 1:
        raise ValueError("give --jobs or --scheduler, not both")
    try:
        from distributed import Client
    except ImportError:
        raise ValueError(
            "--scheduler needs dask.distributed: pip install 'semantic-rd[cluster]'"
        ) from None
    try:
        client = Client(args.scheduler, timeout=30)
    except (OSError, TimeoutError) as exc:
        raise ValueError(f"--scheduler {args.scheduler}: cannot connect ({exc})") from None
    with client:
        yield client.get_executor()


def _load_source(args: argparse.Namespace) -> Source:
    from .sources import binary_source, digits_source, gaussian_source

    if args.npz:
        path = args.npz
        if not os.path.isfile(path):
            raise ValueError(f"--npz: no such file: {path}")
        try:
            with np.load(path, allow_pickle=False) as z:
                files = list(z.files)
                arrays = {k: np.asarray(z[k]) for k in ("p_x", "p_y_given_x", "d_rd") if k in files}
        except Exception as exc:  # OSError, zipfile.BadZipFile, pickled data, ...
            raise ValueError(
                f"--npz {path}: not a valid .npz file ({type(exc).__name__})"
            ) from None
        missing = [k for k in ("p_x", "p_y_given_x", "d_rd") if k not in arrays]
        if missing:
            raise ValueError(
                f"--npz {path}: missing array(s) {', '.join(missing)} "
                f"(found {', '.join(files) or 'none'})"
            )
        try:  # the one validator, with the file named in its message
            pb = Problem.from_arrays(arrays["p_x"], arrays["p_y_given_x"], arrays["d_rd"])
        except (TypeError, ValueError) as exc:
            raise ValueError(f"--npz {path}: {exc}") from None
        return Source(pb.p_x, pb.p_y_given_x, pb.d_rd, name=os.path.basename(path))
    with _flags(_SOURCE_FLAGS):
        if args.source == "binary":
            return binary_source(args.p, label_error=args.label_error)
        if args.source == "gaussian":
            return gaussian_source(
                args.variance, n_points=args.grid, width=3.5, label_error=args.label_error
            )
        return digits_source(
            n_samples=args.samples,
            n_codebook=args.codebook,
            label_error=args.label_error,
            seed=args.seed,
        )


def _solver_kw(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments every command passes on: solver options, seed, jobs, progress."""
    return dict(
        tol=args.tol,
        max_iter=args.max_iter,
        base=args.base,
        accelerate=args.accelerate,
        seed=args.seed,
        n_jobs=args.jobs,
        progress=args.progress,
    )


def _write_curve(curve: Curve, out: str | None, stem: str) -> list[str]:
    if not out:
        return []
    os.makedirs(out, exist_ok=True)
    paths = [os.path.join(out, stem + ".csv"), os.path.join(out, stem + ".json")]
    curve.to_csv(paths[0])
    curve.to_json(paths[1])
    return paths


def _cmd_curve(args: argparse.Namespace) -> int:
    from .curves import semantic_rd_curve
    from .plotting import plot_curve, plot_information_plane, save_figure

    _check_out(args.out)
    src = _load_source(args)
    lam_range = None
    if args.lam_min is not None or args.lam_max is not None:
        if args.lam_min is None or args.lam_max is None:
            raise ValueError("give both --lam-min and --lam-max (or neither)")
        lam_range = (args.lam_min, args.lam_max)
    curves = []
    written: list[str] = []
    print(f"# source: {src.name}")
    with _executor(args) as ex:  # one connection for every β
        for beta in args.beta:
            with _flags({**_COMMON_FLAGS, "n_points": "--n-points"}):
                c = semantic_rd_curve(
                    *src,
                    beta=beta,
                    lams=args.lams,
                    n_points=args.n_points,
                    lam_range=lam_range,
                    warm=not args.cold,
                    direction=args.direction,
                    restarts=args.restarts,
                    locate_transitions=args.transitions,
                    executor=ex,
                    **_solver_kw(args),
                )
            curves.append(c)
            print(
                f"# beta = {beta:g}: {len(c)} points, {c.total_iterations} iterations, {c.wall_time:.2f} s"
            )
            print(c.table(max_rows=args.max_rows))
            for t in c.transitions:
                print(
                    f"# transition: lambda_c = {t.critical:.6g} in [{t.lower:.6g}, {t.upper:.6g}] "
                    f"(n_eff {t.n_before} -> {t.n_after})"
                )
            gaps = c.disagreements()
            if gaps.size:
                print(
                    f"# branches disagree at {gaps.size} point(s): lambda = "
                    + ", ".join(f"{c.lam[i]:.4g}" for i in gaps[:10])
                )
            stem = "curve" if len(args.beta) == 1 else f"curve_beta={beta:g}"
            written += _write_curve(c, args.out, stem)
    if args.out and not args.no_plot:
        closed = src.closed_form if all(b == 0 for b in args.beta) else None
        p1 = os.path.join(args.out, "rd_curve.png")
        save_figure(
            plot_curve(
                curves if len(curves) > 1 else curves[0],
                closed_form=closed,
                x="distortion",
                title=src.name,
            ),
            p1,
        )
        p2 = os.path.join(args.out, "information_plane.png")
        save_figure(plot_information_plane(curves, title=src.name), p2)
        written += [p1, p2]
    for w in written:
        print(f"# wrote {w}")
    return 0


def _cmd_family(args: argparse.Namespace) -> int:
    from .curves import beta_family
    from .plotting import plot_beta_family, save_figure

    _check_out(args.out)
    src = _load_source(args)
    with _flags(_COMMON_FLAGS), _executor(args) as ex:
        c = beta_family(
            *src,
            betas=args.betas,
            lam=args.lam,
            rate=args.rate,
            warm=not args.cold,
            executor=ex,
            **_solver_kw(args),
        )
    print(f"# source: {src.name}")
    fixed = f"lambda = {args.lam:g}" if args.lam is not None else f"rate = {args.rate:g}"
    print(
        f"# beta family at {fixed}: {len(c)} points, {c.total_iterations} iterations, {c.wall_time:.2f} s"
    )
    print(c.table(max_rows=args.max_rows))
    written = _write_curve(c, args.out, "beta_family")
    if args.out and not args.no_plot:
        p = os.path.join(args.out, "beta_family.png")
        save_figure(plot_beta_family(c, title=f"{src.name}, {fixed}"), p)
        written.append(p)
    for w in written:
        print(f"# wrote {w}")
    return 0


def _cmd_ib(args: argparse.Namespace) -> int:
    from .curves import ib_curve
    from .plotting import plot_information_plane, save_figure

    _check_out(args.out)
    src = _load_source(args)
    rng = None
    if args.beta_ib_min is not None or args.beta_ib_max is not None:
        if args.beta_ib_min is None or args.beta_ib_max is None:
            raise ValueError("give both --beta-ib-min and --beta-ib-max (or neither)")
        rng = (args.beta_ib_min, args.beta_ib_max)
    with _flags({**_COMMON_FLAGS, "n_points": "--n-points"}), _executor(args) as ex:
        c = ib_curve(
            src.p_x,
            src.p_y_given_x,
            args.clusters,
            n_points=args.n_points,
            beta_ib_range=rng,
            executor=ex,
            **_solver_kw(args),
        )
    print(f"# source: {src.name}; IB with {args.clusters} clusters (beta_IB = 1/lambda)")
    print(c.table(max_rows=args.max_rows))
    for t in c.transitions:
        print(
            f"# transition: beta_IB_c = {1 / t.critical:.6g} in [{1 / t.upper:.6g}, {1 / t.lower:.6g}] "
            f"(clusters {t.n_before} -> {t.n_after})"
        )
    written = _write_curve(c, args.out, "ib_curve")
    if args.out and not args.no_plot:
        p = os.path.join(args.out, "information_plane.png")
        save_figure(plot_information_plane(c, title=f"IB: {src.name}"), p)
        written.append(p)
    for w in written:
        print(f"# wrote {w}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m infotheory``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        if not argv:
            argv = ["demo"]
        args = parser.parse_args(argv)
        if args.command is None or args.command == "demo":
            out = getattr(args, "out", "demo_output")
            _check_out(out)
            return run_demo(out)
        return {"curve": _cmd_curve, "family": _cmd_family, "ib": _cmd_ib}[args.command](args)
    except UsageError as exc:
        print(f"infotheory: error: {exc} (see --help)", file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exc:  # --help / --version print and exit through argparse
        return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_USAGE
    except (ValueError, TypeError, OSError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"infotheory: error: {msg}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("infotheory: interrupted", file=sys.stderr)
        return 130
