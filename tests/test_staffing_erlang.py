"""Erlang B, C and A against published values and against independent computations.

Sources of the published values:

- Erlang B: the classic loss tables (e.g. ITU-T's *Teletraffic Engineering Handbook*, table of
  the Erlang B formula): B(N = 10, A = 10) = 0.2146, B(N = 15, A = 10) = 0.0365; B(1, 1) = 0.5.
- Erlang C: Call Centre Helper's worked example ("Erlang C formula – made simple", 100 calls in
  30 minutes, 180 s handle time, 80 % within 20 s): 14 agents, probability of waiting 17.4 %,
  service level 88.8 %, occupancy 71.4 % (the same figures pyworkforce's tests assert); and the
  M/M/1 textbook results P(wait) = ρ, mean wait ρ/(μ − λ).
- Erlang A: Mandelbaum & Zeltyn, "The Palm/Erlang-A queue, with applications to call centers"
  (2007): when the patience rate equals the service rate (θ = μ) the number of callers in the
  system is Poisson(λ/μ), as in M/M/∞; θ → 0 gives Erlang C and θ → ∞ Erlang B (Garnett,
  Mandelbaum & Reiman, "Designing a call center with impatient customers", 2002).

Where no table is at hand the test derives the figure another way: the stationary distribution
of the birth–death chain (probability of waiting, abandons, mean wait by Little's law), the
tagged caller's absorbing chain solved by uniformisation (service level), exact rational
arithmetic (Erlang B), and a seeded simulation (the maximum wait of a queue).
"""

from __future__ import annotations

import heapq
import math
import random
from fractions import Fraction

import numpy as np
import pytest

from analytics.staffing.erlang import (
    ErlangAFigures,
    ErlangCFigures,
    LossFigures,
    erlang_b,
    erlang_c,
    log_erlang_b,
)

# --- Erlang B --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("agents", "erlangs", "published"),
    [(10, 10.0, 0.2146), (15, 10.0, 0.0365), (1, 1.0, 0.5), (5, 2.0, 0.0367)],
)
def test_erlang_b_matches_the_loss_tables(agents: int, erlangs: float, published: float) -> None:
    assert erlang_b(agents, erlangs) == pytest.approx(published, abs=5e-5)


def _erlang_b_exact(agents: int, erlangs: Fraction) -> Fraction:
    terms = [erlangs**k / math.factorial(k) for k in range(agents + 1)]
    return terms[-1] / sum(terms, Fraction(0))


@pytest.mark.parametrize(("agents", "erlangs"), [(3, "3/2"), (12, "17/2"), (40, "35")])
def test_erlang_b_equals_the_exact_rational_formula(agents: int, erlangs: str) -> None:
    exact = _erlang_b_exact(agents, Fraction(erlangs))
    assert erlang_b(agents, float(Fraction(erlangs))) == pytest.approx(float(exact), rel=1e-12)


def test_erlang_b_stays_finite_for_large_numbers_of_agents() -> None:
    # 2000 agents: the factorials of the textbook formula overflow a double long before.
    assert erlang_b(2000, 1900.0) == pytest.approx(math.exp(log_erlang_b(2000, 1900.0)), rel=1e-12)
    assert 0 < erlang_b(2000, 1900.0) < 0.01
    assert log_erlang_b(500, 1.0) < -2000  # far below the smallest double: kept as a log


# --- Erlang C --------------------------------------------------------------------------------

CCH_RATE = 100 / 1800  # 100 calls in 30 minutes, per second
CCH_HANDLE = 180.0


def test_erlang_c_call_centre_helper_worked_example() -> None:
    figures = ErlangCFigures(CCH_RATE, CCH_HANDLE, 14)
    assert figures.p_wait == pytest.approx(0.174, abs=5e-4)
    assert float(figures.answered_within(np.array(20.0))) == pytest.approx(0.888, abs=5e-4)
    occupancy = CCH_RATE * CCH_HANDLE / 14
    assert occupancy == pytest.approx(0.714, abs=5e-4)
    # The worked example's answer: 13 agents miss 80 % in 20 s, 14 meet it.
    assert float(ErlangCFigures(CCH_RATE, CCH_HANDLE, 13).answered_within(np.array(20.0))) < 0.8


def test_erlang_c_one_agent_is_the_textbook_m_m_1() -> None:
    rate, handle = 1 / 300, 120.0  # ρ = 0.4
    figures = ErlangCFigures(rate, handle, 1)
    assert figures.p_wait == pytest.approx(0.4)
    assert figures.mean_wait_s == pytest.approx(0.4 / (1 / handle - rate))
    assert float(figures.answered_within(np.array(30.0))) == pytest.approx(
        1 - 0.4 * math.exp(-(1 / handle - rate) * 30)
    )


def test_erlang_c_load_above_the_agents() -> None:
    figures = ErlangCFigures(30 / 3600, 180.0, 1)  # 1.5 erlangs on one agent
    assert figures.p_wait == 1.0
    assert float(figures.answered_within(np.array(25.0))) == 0.0
    assert figures.mean_wait_s == math.inf
    assert figures.answered == pytest.approx(1 / 1.5)  # what one agent can take, in the long run
    assert erlang_c(2, 2.0) == 1.0


def test_zero_calls_are_all_answered_at_once() -> None:
    for figures in (
        ErlangCFigures(0.0, 180.0, 1),
        ErlangAFigures(0.0, 180.0, 1, 60.0),
        LossFigures(0.0, 180.0, 1),
    ):
        assert figures.p_wait == 0.0
        assert figures.answered == 1.0
        assert float(figures.answered_within(np.array(0.0))) == 1.0
    assert erlang_c(0, 0.0) == 0.0


# --- Erlang A: the birth–death chain, solved directly ------------------------------------------


def _chain(rate: float, handle: float, agents: int, patience: float, size: int = 400):
    """Stationary distribution of M/M/n+M: births λ, deaths min(k, n)μ + max(k − n, 0)θ."""
    mu, theta = 1 / handle, 1 / patience
    log_p = np.zeros(size)
    for k in range(1, size):
        death = min(k, agents) * mu + max(k - agents, 0) * theta
        log_p[k] = log_p[k - 1] + math.log(rate) - math.log(death)
    p = np.exp(log_p - log_p.max())
    return p / p.sum()


CASES = [
    # (calls/s, handle s, agents, mean patience s): a town hall's hour, busy, overloaded, big
    (30 / 3600, 180.0, 2, 120.0),
    (30 / 3600, 180.0, 1, 60.0),
    (0.05, 240.0, 8, 90.0),  # 12 erlangs on 8 agents: stable only thanks to abandons
    (2.0, 200.0, 390, 300.0),  # 400 erlangs
    (0.02, 180.0, 4, 1e6),  # nearly infinitely patient
]


@pytest.mark.parametrize(("rate", "handle", "agents", "patience"), CASES)
def test_erlang_a_matches_the_birth_death_chain(
    rate: float, handle: float, agents: int, patience: float
) -> None:
    size = max(400, agents + 2000) if patience < 1e5 else 4000
    p = _chain(rate, handle, agents, patience, size)
    waiting = np.maximum(np.arange(size) - agents, 0)
    queue = float((p * waiting).sum())
    figures = ErlangAFigures(rate, handle, agents, patience)
    assert figures.p_wait == pytest.approx(float(p[agents:].sum()), abs=1e-9)
    assert figures.abandoned == pytest.approx(queue / patience / rate, abs=1e-9)
    assert figures.answered == pytest.approx(1 - queue / patience / rate, abs=1e-9)
    assert figures.mean_wait_s == pytest.approx(queue / rate, rel=1e-7)  # Little's law


def _served_within_by_uniformisation(
    rate: float, handle: float, agents: int, patience: float, t: float, size: int = 300
) -> float:
    """P(answered within t) of an arriving caller, from the tagged caller's own chain.

    Arriving in state k ≥ n (PASTA), the caller has j = k − n callers ahead. While i are ahead
    the line moves at nμ + iθ; the caller abandons at θ. States: i ahead (0..size), then
    "served" and "gone"; P(served by t) by uniformisation (a Poisson mixture of jump-chain
    powers), independent of the virtual-wait integrals of the code under test.
    """
    p = _chain(rate, handle, agents, patience, size + agents + 1)
    mu_n, theta = agents / handle, 1 / patience
    served, gone = size + 1, size + 2
    q = np.zeros((size + 3, size + 3))
    for i in range(size + 1):
        q[i, i - 1 if i else served] = mu_n + i * theta
        q[i, gone] = theta
        q[i, i] = -(mu_n + (i + 1) * theta)
    uniform = float(-q.diagonal().min())
    jump = np.eye(size + 3) + q / uniform
    start = np.zeros(size + 3)
    start[: size + 1] = p[agents : agents + size + 1]
    total = float(p[:agents].sum())
    weight = math.exp(-uniform * t)
    vector = start.copy()
    k = 0
    cumulative = 0.0
    while cumulative < 1 - 1e-13:
        total += weight * vector[served]
        cumulative += weight
        k += 1
        weight *= uniform * t / k
        vector = vector @ jump
    # Poisson tail beyond the sum: bounded by what is left of the mass, served at most.
    return total


@pytest.mark.parametrize(("rate", "handle", "agents", "patience"), CASES[:3])
@pytest.mark.parametrize("t", [0.0, 10.0, 25.0, 60.0])
def test_erlang_a_service_level_matches_the_tagged_caller_chain(
    rate: float, handle: float, agents: int, patience: float, t: float
) -> None:
    expected = _served_within_by_uniformisation(rate, handle, agents, patience, t)
    figures = ErlangAFigures(rate, handle, agents, patience)
    assert float(figures.answered_within(np.array(t))) == pytest.approx(expected, abs=1e-8)


def test_erlang_a_with_patience_equal_to_handle_time_is_m_m_infinity() -> None:
    # θ = μ: whoever is in the system leaves at rate μ, waiting or talking: N ~ Poisson(a).
    rate, handle, agents = 0.03, 200.0, 7
    a = rate * handle
    poisson = [math.exp(-a) * a**k / math.factorial(k) for k in range(80)]
    beyond = sum(p * (k - agents) for k, p in enumerate(poisson) if k > agents)
    figures = ErlangAFigures(rate, handle, agents, handle)
    assert figures.p_wait == pytest.approx(sum(poisson[agents:]), abs=1e-12)
    assert figures.abandoned == pytest.approx(beyond / a, abs=1e-12)


def test_erlang_a_limits_are_erlang_c_and_erlang_b() -> None:
    rate, handle, agents = 30 / 3600, 180.0, 3
    patient = ErlangAFigures(rate, handle, agents, 1e9)
    c = ErlangCFigures(rate, handle, agents)
    assert patient.p_wait == pytest.approx(c.p_wait, rel=1e-6)
    assert float(patient.answered_within(np.array(25.0))) == pytest.approx(
        float(c.answered_within(np.array(25.0))), rel=1e-6
    )
    impatient = ErlangAFigures(rate, handle, agents, 1e-6)
    assert impatient.answered == pytest.approx(1 - erlang_b(agents, rate * handle), abs=1e-6)


def test_erlang_a_without_patience_is_erlang_c() -> None:
    figures = ErlangAFigures(CCH_RATE, CCH_HANDLE, 14, None)
    c = ErlangCFigures(CCH_RATE, CCH_HANDLE, 14)
    assert figures.p_wait == pytest.approx(c.p_wait, rel=1e-10)
    assert figures.mean_wait_s == pytest.approx(c.mean_wait_s, rel=1e-9)
    waits = np.array([0.0, 5.0, 20.0, 300.0])
    np.testing.assert_allclose(figures.answered_within(waits), c.answered_within(waits), rtol=1e-9)


def test_erlang_a_load_far_above_the_agents() -> None:
    # 40 erlangs on 4 agents: the agents answer what they can (4 of 40), the rest hang up.
    figures = ErlangAFigures(40 / 180, 180.0, 4, 60.0)
    assert figures.p_wait == pytest.approx(1.0, abs=1e-4)
    assert figures.answered == pytest.approx(0.1, abs=1e-3)
    assert figures.answered <= 0.1 + 1e-9
    assert figures.abandoned == pytest.approx(1 - figures.answered, abs=1e-9)


def test_erlang_a_no_agent() -> None:
    figures = ErlangAFigures(0.01, 180.0, 0, 60.0)
    assert (figures.p_wait, figures.answered, figures.abandoned) == (1.0, 0.0, 1.0)
    assert figures.mean_wait_s == pytest.approx(60.0)
    capped = ErlangAFigures(0.01, 180.0, 0, 60.0, max_wait_s=30.0)
    assert capped.timed_out == pytest.approx(math.exp(-0.5))
    assert capped.mean_wait_s == pytest.approx(60 * (1 - math.exp(-0.5)))


def test_bad_figures_are_refused() -> None:
    with pytest.raises(ValueError, match="handle time"):
        ErlangCFigures(0.01, 0.0, 2)
    with pytest.raises(ValueError, match="patience"):
        ErlangAFigures(0.01, 180.0, 2, 0.0)
    with pytest.raises(ValueError, match="never empties"):
        ErlangAFigures(0.02, 180.0, 2, None)


# --- Erlang A with a maximum wait -------------------------------------------------------------


def test_maximum_wait_zero_is_erlang_b() -> None:
    figures = ErlangAFigures(10 / 180, 180.0, 10, 120.0, max_wait_s=0.0)
    assert figures.p_wait == pytest.approx(0.2146, abs=5e-5)
    assert figures.timed_out == pytest.approx(erlang_b(10, 10.0), rel=1e-12)
    assert figures.answered == pytest.approx(1 - erlang_b(10, 10.0), rel=1e-12)
    loss = LossFigures(10 / 180, 180.0, 10)
    assert loss.answered == pytest.approx(figures.answered, rel=1e-12)


def test_maximum_wait_without_abandons_keeps_an_overloaded_queue_finite() -> None:
    figures = ErlangAFigures(0.02, 180.0, 2, None, max_wait_s=60.0)  # 3.6 erlangs on 2
    assert figures.answered < 2 / 3.6 + 1e-9
    assert figures.answered + figures.timed_out == pytest.approx(1.0, abs=1e-9)


def _simulate(rate, handle, agents, patience, max_wait, calls, seed):
    """Event-driven M/M/n+M with a maximum wait, FIFO: shares answered ≤ 25 s, answered,
    abandoned, timed out."""
    rng = random.Random(seed)
    free_at: list[float] = [0.0] * agents  # when each agent is next free (heap)
    heapq.heapify(free_at)
    now = 0.0
    within = answered = abandoned = timed_out = 0
    # FIFO with impatience: a caller is served by the first agent free after their arrival,
    # unless they left before; earlier callers who left free nothing, so keep a heap of
    # agents' free times and give each caller the earliest one.
    for _ in range(calls):
        now += rng.expovariate(rate)
        leave = min(rng.expovariate(1 / patience), max_wait)
        start = max(now, free_at[0])
        if start - now <= leave:
            heapq.heapreplace(free_at, start + rng.expovariate(1 / handle))
            answered += 1
            within += start - now <= 25.0
        elif leave == max_wait:
            timed_out += 1
        else:
            abandoned += 1
    return within / calls, answered / calls, abandoned / calls, timed_out / calls


def test_maximum_wait_matches_a_simulation() -> None:
    rate, handle, agents, patience, max_wait = 0.04, 180.0, 7, 90.0, 45.0
    within, answered, abandoned, timed_out = _simulate(
        rate, handle, agents, patience, max_wait, 300_000, seed=20
    )
    figures = ErlangAFigures(rate, handle, agents, patience, max_wait_s=max_wait)
    # 300,000 callers: a share's standard error is below 0.001.
    assert figures.answered == pytest.approx(answered, abs=0.004)
    assert float(figures.answered_within(np.array(25.0))) == pytest.approx(within, abs=0.004)
    assert figures.abandoned == pytest.approx(abandoned, abs=0.004)
    assert figures.timed_out == pytest.approx(timed_out, abs=0.004)
