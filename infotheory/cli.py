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
same numbers (``docs/curves.md``).

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
import math
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

import numpy as np

from .options import DEFAULTS
from .problem import Problem
from .sources import Source

if TYPE_CHECKING:  # the curves package is imported by the commands that use it
    from .curves import Curve

__all__ = ["main"]

EXIT_USAGE = 2


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line and never exit the interpreter."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(message)


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


def _floats(text: str) -> list[float]:
    try:
        vals = [float(v) for v in text.replace(" ", "").split(",") if v != ""]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers, got {text!r}"
        ) from None
    if not vals:
        raise argparse.ArgumentTypeError("expected at least one number")
    return vals


def _add_source_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("source")
    g.add_argument(
        "--source",
        choices=("binary", "gaussian", "digits"),
        default="binary",
        help="built-in source (default: binary)",
    )
    g.add_argument(
        "--npz",
        metavar="FILE",
        help="load arrays p_x, p_y_given_x, d_rd from a .npz file instead of --source",
    )
    g.add_argument("--p", type=float, default=0.25, help="binary: P(X=1) (default 0.25)")
    g.add_argument(
        "--label-error",
        type=float,
        default=0.1,
        help="label noise of the symmetric label channel (default 0.1)",
    )
    g.add_argument("--variance", type=float, default=1.0, help="gaussian: σ² (default 1)")
    g.add_argument(
        "--grid", type=int, default=25, help="gaussian: number of grid points (default 25)"
    )
    g.add_argument(
        "--samples", type=int, default=200, help="digits: number of images (default 200)"
    )
    g.add_argument("--codebook", type=int, default=32, help="digits: codebook size (default 32)")


def _add_solver_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("solver")
    opts = DEFAULTS  # the one set of defaults
    for flag, kind, text in (
        ("--tol", float, "stationarity tolerance; at beta = 0 also Blahut's certificate"),
        ("--max-iter", int, "iteration cap per start"),
        ("--base", float, "log base of information (2: bits)"),
        ("--seed", int, "seed of random starts"),
    ):
        default = getattr(opts, flag[2:].replace("-", "_"))
        g.add_argument(flag, type=kind, default=default, help=f"{text} (default {default:g})")
    g.add_argument(
        "--no-accelerate",
        dest="accelerate",
        action="store_const",
        const=False,
        default=opts.accelerate,
        help="plain eq. (17) iteration only (default: accelerated after warm-up steps)",
    )


def _add_parallel_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("parallel")
    g.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="local worker processes (default 1: this process); a warm beta = 0 curve is "
        "cut into JOBS warm chains (equal to the solver's tolerance)",
    )
    g.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the jobs on this dask.distributed scheduler (tcp://HOST:8786; needs the "
        "[cluster] extra); the same numbers as with --jobs 1",
    )


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


def _add_output_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("output")
    g.add_argument("--out", metavar="DIR", help="write CSV, JSON and PNG files into DIR")
    g.add_argument("--no-plot", action="store_true", help="do not write PNGs")
    g.add_argument("--max-rows", type=int, default=40, help="rows of the stdout table (default 40)")
    g.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="tqdm progress bar on stderr (default: on a terminal, after 2 s)",
    )


def _build_parser() -> _Parser:
    parser = _Parser(
        prog="python -m infotheory",
        description="Theoretical semantic rate-distortion curves (eq. 11, solved by eq. 17). "
        "Without a command: the demo.",
    )
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    d = sub.add_parser(
        "demo", help="binary R(D) against its closed form + a semantic example (default)"
    )
    d.add_argument(
        "--out",
        metavar="DIR",
        default="demo_output",
        help="output directory (default ./demo_output)",
    )

    c = sub.add_parser("curve", help="semantic R-D curve(s) over λ at one or more β")
    _add_source_args(c)
    c.add_argument(
        "--beta", type=_floats, default=[0.0], help="β, or comma-separated βs (default 0)"
    )
    c.add_argument("--lams", type=_floats, help="comma-separated λ values (overrides the range)")
    c.add_argument("--lam-min", type=float, help="smallest λ (default: automatic)")
    c.add_argument("--lam-max", type=float, help="largest λ (default: automatic)")
    c.add_argument("--n-points", type=int, default=30, help="number of λ values (default 30)")
    c.add_argument(
        "--cold", action="store_true", help="independent cold starts instead of warm starts"
    )
    c.add_argument(
        "--direction",
        choices=("auto", "up", "down", "both"),
        default="auto",
        help="warm-start sweep direction (default auto)",
    )
    c.add_argument(
        "--restarts",
        type=int,
        default=0,
        help="extra seeded cold starts per point; the lowest F is kept (default 0)",
    )
    c.add_argument(
        "--transitions", action="store_true", help="locate phase transitions by bisection"
    )
    _add_solver_args(c)
    _add_parallel_args(c)
    _add_output_args(c)

    f = sub.add_parser("family", help="sweep β at fixed λ or fixed rate (cf. Fig. 9)")
    _add_source_args(f)
    f.add_argument("--betas", type=_floats, required=True, help="comma-separated βs")
    grp = f.add_mutually_exclusive_group(required=True)
    grp.add_argument("--lam", type=float, help="fixed temperature λ")
    grp.add_argument("--rate", type=float, help="fixed rate I(X;X̂) (units of --base)")
    f.add_argument(
        "--cold",
        action="store_true",
        help="every β from its own random start (independent jobs) instead of continuation",
    )
    _add_solver_args(f)
    _add_parallel_args(f)
    _add_output_args(f)

    i = sub.add_parser("ib", help="information-bottleneck curve with phase transitions")
    _add_source_args(i)
    i.add_argument("--clusters", type=int, default=4, help="number of clusters |T| (default 4)")
    i.add_argument("--n-points", type=int, default=30, help="number of β_IB values (default 30)")
    i.add_argument("--beta-ib-min", type=float, help="smallest β_IB (default 0.5/ρ²)")
    i.add_argument("--beta-ib-max", type=float, help="largest β_IB (default 50/ρ²)")
    _add_solver_args(i)
    _add_parallel_args(i)
    _add_output_args(i)
    return parser


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


def run_demo(out: str) -> int:
    """The fresh-machine check: binary R(D) vs closed form + one semantic R-D example.

    Prints two small tables and writes ``<out>/theoretical_curves.png``."""
    from .curves import semantic_rd_curve
    from .plotting import new_figure, plot_curve, plot_information_plane, save_figure
    from .sources import binary_rate_distortion, binary_source, source_from_data

    t0 = time.perf_counter()
    p = 0.25
    src = binary_source(p)
    c = semantic_rd_curve(
        *src, beta=0.0, lam_range=(0.1, 1.0 / math.log((1 - p) / p) * 1.3), n_points=12
    )
    cf = binary_rate_distortion(p, c.distortion_rd)
    print(
        f"Binary source p = {p}, Hamming distortion: R(D) from the solver (eq. 17, beta = 0) "
        "against h(p) - h(D) [bits]"
    )
    print(
        f"{'lambda':>9} {'D':>10} {'R solver':>10} {'h(p)-h(D)':>10} {'|diff|':>9} {'Blahut LB':>10}"
    )
    for i in range(len(c)):
        print(
            f"{c.lam[i]:9.4f} {c.distortion_rd[i]:10.6f} {c.rate[i]:10.6f} {cf[i]:10.6f} "
            f"{abs(c.rate[i] - cf[i]):9.2e} {c.rate_lower_bound[i]:10.6f}"
        )
    err = float(np.max(np.abs(c.rate - cf)))
    print(
        f"max |R_solver - R_closed| = {err:.2e} bits over {len(c)} points "
        f"({c.total_iterations} iterations)"
    )

    # semantic example: 8 amplitude levels, the task label is the sign, seen through a BSC(0.1)
    levels = np.arange(8, dtype=float)[:, None]
    sem = source_from_data(
        levels / 7.0,
        (levels[:, 0] >= 4).astype(int),
        codebook=levels / 7.0,
        label_error=0.1,
        name="8-level source, sign label",
    )
    lams = np.geomspace(0.3, 0.004, 14)
    sem_curves = [semantic_rd_curve(*sem, beta=b, lams=lams) for b in (0.0, 0.05)]
    print()
    print(
        f"Semantic R-D ({sem.name}): D_S = D_RD + beta*D_IB (eq. 6); beta > 0 steers the encoder "
        "towards the task: more I(Xh;Y) at comparable rate, paid in D_RD"
    )
    print(f"{'beta':>6} {'lambda':>9} {'rate':>9} {'D_RD':>9} {'I(Xh;Y)':>9}")
    for cc in sem_curves:
        for i in range(0, len(cc), 3):
            print(
                f"{cc.beta[i]:6.3g} {cc.lam[i]:9.4f} {cc.rate[i]:9.4f} {cc.distortion_rd[i]:9.5f} "
                f"{cc.relevance[i]:9.4f}"
            )
    fig, axes = new_figure(3, width=4.0)
    plot_curve(
        c,
        ax=axes[0],
        x="distortion_rd",
        closed_form=src.closed_form,
        title=f"binary p={p}: R(D) vs h(p)-h(D)",
    )
    plot_curve(
        sem_curves,
        ax=axes[1],
        x="distortion_rd",
        bound=False,
        envelope=False,
        title="semantic R-D: rate vs D_RD",
    )
    plot_information_plane(sem_curves, ax=axes[2], title="information plane")
    path = os.path.join(out, "theoretical_curves.png")
    save_figure(fig, path)
    print(f"\nwrote {path} ({time.perf_counter() - t0:.1f} s)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m infotheory``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _build_parser()
    try:
        if not argv:
            argv = ["demo"]
        args = parser.parse_args(argv)
        if args.command is None or args.command == "demo":
            out = getattr(args, "out", "demo_output")
            _check_out(out)
            return run_demo(out)
        return {"curve": _cmd_curve, "family": _cmd_family, "ib": _cmd_ib}[args.command](args)
    except _UsageError as exc:
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
