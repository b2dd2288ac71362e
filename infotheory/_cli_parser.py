"""The argument parser of ``python -m infotheory`` (:mod:`infotheory.cli`): the
subcommands, their flags and the solver defaults they show (``SolverOptions``)."""

from __future__ import annotations

import argparse

from .options import DEFAULTS

__all__ = ["Parser", "UsageError", "build_parser"]


class UsageError(Exception):
    """A command-line usage error (one line, exit status 2)."""


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line and never exit the interpreter."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def floats(text: str) -> list[float]:
    """A comma-separated list of numbers (an argparse ``type``)."""
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


def build_parser() -> Parser:
    parser = Parser(
        prog="python -m infotheory",
        description="Theoretical semantic rate-distortion curves (eq. 11, solved by eq. 17). "
        "Without a command: the demo.",
    )
    sub = parser.add_subparsers(dest="command", parser_class=Parser)

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
        "--beta", type=floats, default=[0.0], help="β, or comma-separated βs (default 0)"
    )
    c.add_argument("--lams", type=floats, help="comma-separated λ values (overrides the range)")
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
    f.add_argument("--betas", type=floats, required=True, help="comma-separated βs")
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
