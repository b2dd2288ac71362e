"""The neural codec's deterministic encoder against the exact semantic R-D curve.

A deterministic encoder onto codewords of the reproduction alphabet is a feasible point
of eq. (11), so with ``F(λ) = I(X;X̂) + (D_RD + β·D_IB)/λ`` (nats inside, reported in
bits) its value can never be below the minimum over all encoders:

    F_neural(λ) ≥ F*(λ)   for every λ > 0.                                  (feasibility)

Two gaps measure how far above the curve the neural point sits, both in bits:

* ``gap_rate_bits``: ``R_neural − R*(D_neural)``, the rate the exact optimum saves at the
  same distortion ``D_S`` (:func:`infotheory.solve_for_distortion`; 0 is the best a
  codec can do);
* ``gap_lagrangian_bits``: ``min over λ of F_neural(λ) − F*(λ)`` over the curve's λ
  grid and the λ of equal distortion. By convex duality this minimum equals the rate gap
  to the lower convex envelope of the curve, so it is ≤ ``gap_rate_bits`` up to the grid.

At β = 0 the problem is convex and every curve point carries Blahut's certificate
(``rate − rate_lower_bound``): a neural point below ``F* − certificate − tol`` is a bug,
flagged in ``violation`` (``"bug"``). At β > 0 the solver returns a stationary point; a
neural point below it shows that the solver missed the global optimum there
(``violation = "solver not global"``), and the point is solved again with the neural
encoder as one more start (``init=`` the encoder, plain eq. (17) from it).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from infotheory import (
    Curve,
    evaluate_encoder,
    semantic_rd,
    semantic_rd_curve,
    solve_for_distortion,
)

#: Absolute tolerance (bits) on top of the certificate: the rounding of F in float64.
TOL_BITS = 1e-9
#: Distortion tolerance of the equal-distortion solve (units of d_RD); the rate error it
#: leaves is at most this times the slope 1/(λ ln 2) there.
DISTORTION_ATOL = 1e-9


def exact_curve(
    problem: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    beta: float,
    n_points: int,
    lam_range: tuple[float, float] | None = None,
) -> Curve:
    """The exact curve at ``beta`` (:func:`infotheory.semantic_rd_curve`, bits)."""
    return semantic_rd_curve(
        *problem, beta=beta, n_points=n_points, lam_range=lam_range, progress=False
    )


def _lagrangian_bits(rate: float, distortion: float, lam: np.ndarray | float) -> Any:
    """``F = I + D_S/λ`` in bits, from a rate in bits and ``D_S`` (nats inside)."""
    return rate + distortion / (np.asarray(lam) * math.log(2))


def _rate_at_distortion(
    problem: tuple[np.ndarray, np.ndarray, np.ndarray],
    curve: Curve,
    *,
    beta: float,
    distortion: float,
) -> tuple[float, float, float, float]:
    """``(R*(D), λ, F*(λ), certificate)`` at ``D_S = distortion`` (bits). Beyond the
    curve's rate-0 end ``R* = 0`` (any encoder with X̂ independent of X reaches it)."""
    p_x, _, d_rd = problem
    # rate 0: X̂ independent of X, D_IB = I(X;Y); the best single codeword for D_RD
    d_max = float(np.min(p_x @ d_rd)) + beta * float(curve_info_nats(problem))
    if distortion >= d_max:
        return 0.0, math.inf, 0.0, 0.0
    order = np.argsort(curve.distortion)
    guess = float(np.exp(np.interp(distortion, curve.distortion[order], np.log(curve.lam[order]))))
    hit = solve_for_distortion(
        *problem, beta=beta, distortion=distortion, atol=DISTORTION_ATOL, lam_guess=guess
    )
    res = hit.result
    cert = float(res.gap) if res.gap is not None else 0.0
    return float(res.rate), float(hit.lam), float(res.objective), cert


def curve_info_nats(problem: tuple[np.ndarray, np.ndarray, np.ndarray]) -> float:
    """``I(X;Y)`` in nats of the problem (the D_IB of a rate-0 encoder)."""
    from infotheory import mutual_information

    p_x, p_y_given_x, _ = problem
    return float(mutual_information(p_x[:, None] * p_y_given_x, base=math.e))


def feasibility_row(
    problem: tuple[np.ndarray, np.ndarray, np.ndarray],
    encoder: np.ndarray,
    curve: Curve,
    *,
    beta: float,
) -> dict[str, Any]:
    """Check one neural encoder against ``curve`` (solved at ``beta`` on ``problem``).

    Returns a flat dict: the neural point (``rate``, ``distortion_rd``, ``distortion_ib``,
    ``distortion``, ``relevance``; bits, per-pixel MSE), the gaps (see the module
    docstring), the λ where the Lagrangian gap is smallest, how many grid points the
    feasibility inequality fails at (``violations``) and ``violation`` (``""``, ``"bug"``
    or ``"solver not global"``); at β > 0 also ``objective_neural_start`` and
    ``objective_solver`` at the λ of equal distortion: F from the neural encoder as a start
    against the solver's own answer there.
    """
    if float(curve.beta[0]) != float(beta):
        raise ValueError(f"curve was solved at beta={curve.beta[0]!r}, not beta={beta!r}")
    ev = evaluate_encoder(*problem, encoder, beta=beta, lam=1.0)
    # β = 0: the certificate bounds how far each curve point may sit above the optimum
    cert = (
        np.maximum(curve.rate - curve.rate_lower_bound, 0.0) if beta == 0 else np.zeros(len(curve))
    )
    r_star, lam_d, f_star_d, cert_d = _rate_at_distortion(
        problem, curve, beta=beta, distortion=ev.distortion
    )
    # every λ tried: the curve's grid and (when finite) the λ of equal distortion
    lams, f_star, cert = curve.lam, curve.objective, cert
    if math.isfinite(lam_d):
        lams = np.append(lams, lam_d)
        f_star = np.append(f_star, f_star_d)
        cert = np.append(cert, cert_d)
    f_neural = _lagrangian_bits(ev.rate, ev.distortion, lams)
    gaps = f_neural - f_star
    slack = gaps + cert  # F_neural − (F* − certificate): < 0 breaks feasibility
    bad = np.flatnonzero(slack < -TOL_BITS)
    best = int(np.argmin(gaps))
    row: dict[str, Any] = {
        "rate": ev.rate,
        "distortion_rd": ev.distortion_rd,
        "distortion_ib": ev.distortion_ib,
        "distortion": ev.distortion,
        "relevance": ev.relevance,
        "rate_exact": r_star,
        "lam_equal_distortion": lam_d,
        "gap_rate_bits": ev.rate - r_star,
        "gap_lagrangian_bits": float(gaps[best]),
        "lam_min_gap": float(lams[best]),
        "violations": int(len(bad)),
        "violation": "" if not len(bad) else ("bug" if beta == 0 else "solver not global"),
    }
    if beta > 0 and len(bad):
        # the solver missed the global optimum at these λ: the neural encoder as a start
        # there (plain eq. 17 from it) gives the better answer, F ≤ F_neural
        worst = int(bad[np.argmin(slack[bad])])
        again = semantic_rd(*problem, beta=beta, lam=float(lams[worst]), init=encoder, restarts=0)
        row["lam_worst_violation"] = float(lams[worst])
        row["objective_solver_at_violation"] = float(f_star[worst])
        row["objective_resolved_at_violation"] = float(again.objective)
    if beta > 0 and math.isfinite(lam_d):
        # the neural encoder as one more start (plain eq. 17 from it) at the λ of equal D
        mine = semantic_rd(*problem, beta=beta, lam=lam_d, init=encoder, restarts=0)
        row["objective_neural_start"] = float(mine.objective)
        row["objective_solver"] = f_star_d
        row["neural_start_lower"] = bool(mine.objective < f_star_d - TOL_BITS)
    return row
