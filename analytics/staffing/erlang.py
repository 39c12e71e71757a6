"""Queueing formulas for staffing: Erlang B (loss), Erlang C (wait) and Erlang A (wait, hang up).

All three take Poisson arrivals (``calls_per_s``), ``agents`` identical agents and a mean
handle time; their answers are probabilities over arriving callers.

- **Erlang B** (M/M/n/n): a caller who finds every agent busy is lost at once (to decroche: goes
  to the service's overflow). Insensitive to the handle-time distribution.
- **Erlang C** (M/M/n): callers wait as long as it takes (infinitely patient).
- **Erlang A** (M/M/n+M, Palm's queue): callers wait, each hangs up after an exponential
  patience; optionally a queue's **maximum wait** sends whoever is still waiting to the overflow
  (M/M/n+G with G = min(exponential, constant)).

Erlang A follows Baccelli & Hebuterne's virtual-waiting-time analysis of M/M/n+G as written by
Zeltyn & Mandelbaum ("Call centers with impatient customers: many-server asymptotics of the
M/M/n+G queue", Queueing Systems 51, 2005, §2): with patience survival G(x),
H(x) = ∫₀ˣ G, φ(x) = λH(x) − nμx and J = ∫₀^∞ exp φ, the virtual wait V has an atom
P(V = 0) = 1 − λπJ and the density f(x) = λπ exp φ(x) on x > 0, where
π = P(n − 1 busy) = 1 / (1/B(n − 1, a) + λJ). A caller whose virtual wait is x is answered iff
their patience exceeds x (and x is below the maximum wait), after exactly x. Every figure is
then an integral of exp φ against a weight, computed here by Gauss–Legendre quadrature on
panels fitted to φ (concave, so exp φ is unimodal and its support is found by bisection), in
log space so that large numbers of agents and loads far above them neither overflow nor
underflow. Numpy only: the closed forms via incomplete gamma functions would need scipy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]

_GL_X, _GL_W = np.polynomial.legendre.leggauss(12)
_DROP = 60.0  # exp(φ) below its peak by this much in log is left out (e^-60 ≈ 1e-26)
_MAX_PANELS = 600


def log_erlang_b(agents: int, erlangs: float) -> float:
    """log B(n, a), by the stable recursion B(k) = aB(k−1) / (k + aB(k−1)), B(0) = 1."""
    if agents < 0:
        raise ValueError(f"agents must not be negative, got {agents}")
    if erlangs < 0:
        raise ValueError(f"offered load must not be negative, got {erlangs}")
    if agents == 0:
        return 0.0
    if erlangs == 0:
        return -math.inf
    log_a = math.log(erlangs)
    log_b = 0.0
    for k in range(1, agents + 1):
        # log(k + aB) = log(k) + log1p(aB/k): no overflow, no loss when aB is tiny.
        log_b = log_a + log_b - math.log(k) - math.log1p(math.exp(log_a + log_b) / k)
    return log_b


def erlang_b(agents: int, erlangs: float) -> float:
    """Probability that an arriving caller finds all ``agents`` busy, without a queue."""
    return math.exp(log_erlang_b(agents, erlangs))


def erlang_c(agents: int, erlangs: float) -> float:
    """Probability that an arriving caller waits (M/M/n); 1 when the load reaches the agents."""
    if erlangs == 0:
        return 0.0
    if erlangs >= agents:
        return 1.0
    b = erlang_b(agents, erlangs)
    return agents * b / (agents - erlangs * (1.0 - b))


class Figures(Protocol):
    """What a model says of the callers of one slot, each figure a share of the arrivals."""

    @property
    def p_wait(self) -> float: ...  # finds every agent busy

    @property
    def answered(self) -> float: ...

    @property
    def abandoned(self) -> float: ...  # hangs up before an agent is free

    @property
    def timed_out(self) -> float: ...  # overflows (busy without a queue, maximum wait with one)

    @property
    def mean_wait_s(self) -> float: ...  # over every arrival, until answered or leaving

    def answered_within(self, seconds: F64) -> F64:
        """P(answered with a wait ≤ t) for each t (0 for t < 0)."""
        ...


def _check(calls_per_s: float, handle_s: float, agents: int) -> None:
    if calls_per_s < 0 or not math.isfinite(calls_per_s):
        raise ValueError(f"arrival rate must be a finite non-negative number, got {calls_per_s}")
    if handle_s <= 0 or not math.isfinite(handle_s):
        raise ValueError(f"handle time must be positive, got {handle_s}")
    if agents < 0:
        raise ValueError(f"agents must not be negative, got {agents}")


@dataclass(frozen=True, slots=True)
class LossFigures:
    """Erlang B: no queue, a caller finding every agent busy overflows at once."""

    calls_per_s: float
    handle_s: float
    agents: int

    def __post_init__(self) -> None:
        _check(self.calls_per_s, self.handle_s, self.agents)

    @property
    def p_wait(self) -> float:
        return erlang_b(self.agents, self.calls_per_s * self.handle_s)

    @property
    def answered(self) -> float:
        return 1.0 - self.p_wait

    @property
    def abandoned(self) -> float:
        return 0.0

    @property
    def timed_out(self) -> float:
        return self.p_wait

    @property
    def mean_wait_s(self) -> float:
        return 0.0

    def answered_within(self, seconds: F64) -> F64:
        result: F64 = np.where(np.asarray(seconds) >= 0, self.answered, 0.0)
        return result


@dataclass(frozen=True, slots=True)
class ErlangCFigures:
    """Erlang C, closed form: P(W > t) = C·exp(−(nμ − λ)t), mean wait C / (nμ − λ).

    At or above saturation (a ≥ n) the queue grows without end: everyone waits, nobody within
    any finite time, and in the long run only the share n/a of the callers is answered.
    """

    calls_per_s: float
    handle_s: float
    agents: int

    def __post_init__(self) -> None:
        _check(self.calls_per_s, self.handle_s, self.agents)

    @property
    def _erlangs(self) -> float:
        return self.calls_per_s * self.handle_s

    @property
    def stable(self) -> bool:
        return self._erlangs < self.agents

    @property
    def p_wait(self) -> float:
        return erlang_c(self.agents, self._erlangs)

    @property
    def answered(self) -> float:
        return 1.0 if self.stable else self.agents / self._erlangs

    @property
    def abandoned(self) -> float:
        return 0.0

    @property
    def timed_out(self) -> float:
        return 0.0

    @property
    def mean_wait_s(self) -> float:
        if not self.stable:
            return math.inf
        drain = self.agents / self.handle_s - self.calls_per_s
        return self.p_wait / drain

    def answered_within(self, seconds: F64) -> F64:
        t = np.asarray(seconds, dtype=np.float64)
        if not self.stable:
            return np.zeros_like(t)
        drain = self.agents / self.handle_s - self.calls_per_s
        result: F64 = np.where(t >= 0, 1.0 - self.p_wait * np.exp(-drain * np.maximum(t, 0)), 0.0)
        return result


class ErlangAFigures:
    """Erlang A (M/M/n+M), with an optional maximum wait; see the module's text.

    ``patience_s`` None: callers never hang up (Erlang C, which then needs no saturation check
    when a maximum wait bounds the queue). ``max_wait_s`` None: no maximum.
    """

    __slots__ = (
        "_ends",
        "_lam",
        "_log_scale",
        "_mu_n",
        "_peak",
        "_served_per_panel",
        "_starts",
        "_theta",
        "abandoned",
        "agents",
        "answered",
        "calls_per_s",
        "handle_s",
        "max_wait_s",
        "mean_wait_s",
        "p_wait",
        "patience_s",
        "timed_out",
    )

    def __init__(
        self,
        calls_per_s: float,
        handle_s: float,
        agents: int,
        patience_s: float | None,
        max_wait_s: float | None = None,
    ) -> None:
        _check(calls_per_s, handle_s, agents)
        if patience_s is not None and not patience_s > 0:
            raise ValueError(f"mean patience must be positive, got {patience_s}")
        if max_wait_s is not None and not max_wait_s >= 0:
            raise ValueError(f"maximum wait must not be negative, got {max_wait_s}")
        self.calls_per_s = calls_per_s
        self.handle_s = handle_s
        self.agents = agents
        self.patience_s = patience_s
        self.max_wait_s = max_wait_s
        self._lam = calls_per_s
        self._mu_n = agents / handle_s
        self._theta = 0.0 if patience_s is None or math.isinf(patience_s) else 1.0 / patience_s
        cap = math.inf if max_wait_s is None else max_wait_s
        if self._theta == 0 and math.isinf(cap) and calls_per_s >= self._mu_n and agents:
            raise ValueError(
                f"{calls_per_s * handle_s:.3g} erlangs on {agents} agents without abandons or "
                "maximum wait: the queue never empties (use ErlangCFigures)"
            )
        self._starts = self._ends = self._served_per_panel = np.zeros(0)
        self._peak = 0.0
        self._log_scale = -math.inf
        if calls_per_s == 0:
            self.p_wait, self.answered, self.abandoned, self.timed_out = 0.0, 1.0, 0.0, 0.0
            self.mean_wait_s = 0.0
        elif agents == 0:
            self._no_agent(cap)
        else:
            self._solve(cap)

    def _h(self, x: F64 | float) -> F64:
        """H(x) = ∫₀ˣ exp(−θu) du (= x without abandons)."""
        if self._theta == 0:
            return np.asarray(x, dtype=np.float64)
        result: F64 = -np.expm1(-self._theta * np.asarray(x, dtype=np.float64)) / self._theta
        return result

    def _phi_at(self, x: float) -> float:
        """φ(x) = λH(x) − nμx, scalar (x may be infinite)."""
        if self._theta == 0:
            return (self._lam - self._mu_n) * x if x else 0.0
        return self._lam * -math.expm1(-self._theta * x) / self._theta - self._mu_n * x

    def _no_agent(self, cap: float) -> None:
        """Nobody to answer: every caller waits until they hang up or the maximum wait."""
        self.p_wait, self.answered = 1.0, 0.0
        keeps = math.exp(-self._theta * cap) if not math.isinf(cap) else 0.0
        self.timed_out = keeps
        if math.isinf(cap) and self._theta == 0:
            self.abandoned, self.mean_wait_s = 0.0, math.inf  # waits for ever
        else:
            self.abandoned = 1.0 - keeps
            self.mean_wait_s = float(self._h(cap)) if not math.isinf(cap) else 1.0 / self._theta

    def _support(self, cap: float) -> tuple[float, float, float]:
        """(mode, left, right): exp(φ) is within e^-_DROP of its peak on [left, right]."""
        lam, mu_n, theta = self._lam, self._mu_n, self._theta
        if lam <= mu_n:
            mode = 0.0
        elif theta > 0:
            mode = math.log(lam / mu_n) / theta
        else:
            mode = math.inf
        mode = min(mode, cap)
        peak = self._phi_at(mode)
        floor = peak - _DROP

        def edge(inside: float, outside_limit: float) -> float:
            if outside_limit == inside or self._phi_at(outside_limit) >= floor:
                return outside_limit
            # Bracket from the mode outwards, then bisect (φ is monotone on each side).
            step = 1.0 / (lam + mu_n)
            outside = inside
            while True:
                candidate = inside + step if outside_limit > inside else inside - step
                if (outside_limit > inside and candidate >= outside_limit) or (
                    outside_limit < inside and candidate <= outside_limit
                ):
                    outside = outside_limit
                    break
                if self._phi_at(candidate) < floor:
                    outside = candidate
                    break
                step *= 2.0
            low, high = inside, outside
            for _ in range(40):
                middle = 0.5 * (low + high)
                if self._phi_at(middle) >= floor:
                    low = middle
                else:
                    high = middle
            return high

        left = edge(mode, 0.0)
        right = edge(mode, cap)
        return mode, left, right

    def _panels(self, left: float, right: float) -> F64:
        """Panel edges on [left, right] over which φ changes by about one at most."""
        if right <= left:
            return np.array([left, right])
        slope = max(
            abs(self._lam * math.exp(-self._theta * left) - self._mu_n),
            abs(self._lam * math.exp(-self._theta * right) - self._mu_n),
            1e-300,
        )
        count = int(min(_MAX_PANELS, max(4, math.ceil((right - left) * slope))))
        return np.linspace(left, right, count + 1)

    def _solve(self, cap: float) -> None:
        lam, mu_n, theta = self._lam, self._mu_n, self._theta
        mode, left, right = self._support(cap)
        self._peak = peak = self._phi_at(mode)
        edges = self._panels(left, right)
        self._starts, self._ends = edges[:-1], edges[1:]
        half = (np.diff(edges) / 2.0)[:, None]
        nodes = (self._starts[:, None] + half) + half * _GL_X[None, :]  # panels × Gauss nodes
        density = half * _GL_W[None, :] * np.exp(lam * self._h(nodes) - mu_n * nodes - peak)
        # Beyond the maximum wait the virtual wait still decays at rate nμ (H is flat there).
        tail = 0.0 if math.isinf(cap) else math.exp(self._phi_at(cap) - peak) / mu_n
        scaled_j = float(density.sum()) + tail
        log_b = log_erlang_b(self.agents - 1, lam * self.handle_s)
        log_pi = -float(np.logaddexp(-log_b, math.log(lam) + peak + math.log(scaled_j)))
        # λπ·exp(peak) turns the scaled integrals into probabilities.
        self._log_scale = math.log(lam) + log_pi + peak
        scale = math.exp(self._log_scale)
        keeps_at_cap = 0.0 if math.isinf(cap) else math.exp(-theta * cap)
        served = density * np.exp(-theta * nodes)
        self._served_per_panel = served.sum(axis=1)
        self.p_wait = min(1.0, scale * scaled_j)
        self.answered = (1.0 - self.p_wait) + scale * float(served.sum())
        self.timed_out = scale * keeps_at_cap * tail
        gave_up = float((density * -np.expm1(-theta * nodes)).sum())
        self.abandoned = scale * (gave_up + (1.0 - keeps_at_cap) * tail)
        h_cap = 0.0 if math.isinf(cap) else float(self._h(cap))
        self.mean_wait_s = scale * (float((density * self._h(nodes)).sum()) + h_cap * tail)

    def answered_within(self, seconds: F64) -> F64:
        t = np.asarray(seconds, dtype=np.float64)
        if self.calls_per_s == 0:
            return np.where(t >= 0, 1.0, 0.0)
        if self.agents == 0:
            return np.zeros_like(t)
        cap = math.inf if self.max_wait_s is None else self.max_wait_s
        limit = np.minimum(t, cap).ravel()
        # Served after waiting x ≤ t: ∫₀ᵗ exp(−θx) f(x) dx. Whole panels left of the limit from
        # the cumulative sums; the panel the limit cuts, on Gauss nodes of its own.
        panel = np.searchsorted(self._ends, limit, side="left")
        whole = np.concatenate(([0.0], np.cumsum(self._served_per_panel)))
        inside = whole[np.minimum(panel, len(self._starts))]
        cut = panel < len(self._starts)
        if cut.any():
            low = self._starts[panel[cut]]
            high = np.maximum(limit[cut], low)
            half = (high - low) / 2.0
            x = (low + half)[:, None] + half[:, None] * _GL_X[None, :]
            phi = self._lam * self._h(x) - self._mu_n * x - self._peak
            inside[cut] += (half[:, None] * _GL_W[None, :] * np.exp(phi - self._theta * x)).sum(
                axis=1
            )
        served = math.exp(self._log_scale) * inside
        result = np.where(limit >= 0, (1.0 - self.p_wait) + served, 0.0)
        result = np.where(t.ravel() >= 0, np.minimum(result, self.answered), 0.0)
        shaped: F64 = result.reshape(t.shape)
        return shaped
