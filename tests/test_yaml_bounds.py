"""YAML written by people is read within bounds (issue 19, point 3).

A 370-byte rules file once took ``rules check`` to 2.4 GB (aliases of aliases: the "billion
laughs"), and ``a: &a [*a]`` ended in a raw ``RecursionError``. Every YAML file people give the
service — rules (checked, hot-reloaded, uploaded on the what-if page), the configuration, the
prompt catalogue — now goes through ``routing_rules.yaml_guard``: refused, with its line, when its
size, its number of values, its nesting or its expansion by aliases is out of proportion.

The property test feeds random and adversarial YAML to the real loaders in a child process whose
memory may grow by 256 MiB only: each text is accepted or refused with the loader's own error.
The time each took is measured and printed (``-s``), never asserted; ``bench`` has the figures.
"""

from __future__ import annotations

import json
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decroche.config import ConfigError, load_config
from ivr_prompts.catalogue import CatalogueError, load_catalogue
from routing_rules import yaml_guard
from routing_rules.errors import RulesInvalid
from routing_rules.loader import default_rules_path, load_rules, validate_text

REPO = Path(__file__).resolve().parent.parent
BERNAY = default_rules_path().read_text(encoding="utf-8")
MEMORY_MB = 256
# Only a safety net against a hung child: the outcome is what the test asserts.
ANSWER_WITHIN_S = 120


def laughs(width: int, depth: int, scalar: str = "x") -> str:
    """The "billion laughs": each level aliases the previous one ``width`` times."""
    lines = [f"l0: &l0 [{', '.join([repr(scalar)] * width)}]"]
    lines += [
        f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * width)}]"
        for level in range(1, depth)
    ]
    return "\n".join(lines) + "\n"


def rules_problems(text: str) -> list[str]:
    with pytest.raises(RulesInvalid) as caught:
        validate_text(text, "rules.yaml", {"menu"})
    return [str(p) for p in caught.value.problems]


# --- each refusal, located ---------------------------------------------------------------------


def test_billion_laughs_is_refused_at_the_alias_that_overflows():
    # 9 levels of 9: 387 million values once expanded, from 337 bytes.
    assert rules_problems(laughs(9, 9)) == [
        "rules.yaml:5:10: l'alias *l3 porte le document au-delà de 10\u202f000 valeurs une fois les"
        " alias déployés : refusé"
    ]


def test_aliases_out_of_proportion_are_refused_even_below_the_absolute_bound():
    # Four levels of six: 1,869 values from 15 written (aliases are not values written).
    assert rules_problems(laughs(6, 4)) == [
        "rules.yaml:4:10: les alias (dont *l2 ici) déploient le document en 1\u202f869 valeurs"
        " pour 15 écrites : plus de 10 fois sa taille, refusé"
    ]


def test_one_huge_scalar_aliased_many_times_is_refused():
    text = f'big: &big "{"x" * 200_000}"\ncopies: [*big, *big, *big, *big, *big]\n'
    assert rules_problems(text) == [
        "rules.yaml:2:28: l'alias *big porte le document au-delà de 1\u202f000\u202f000"
        " caractères une fois les alias déployés : refusé"
    ]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        pytest.param("a: &a [*a]\n", "rules.yaml:1:8", id="sequence"),
        pytest.param("a: &a {b: [1, {c: *a}]}\n", "rules.yaml:1:19", id="nested"),
        pytest.param("a: &a {<<: *a}\n", "rules.yaml:1:12", id="merge-key"),
    ],
)
def test_an_alias_inside_its_own_anchor_is_refused(text: str, where: str):
    assert rules_problems(text) == [
        f"{where}: l'alias *a est employé dans la définition même de son ancre &a (ligne 1) :"
        " une valeur qui se contient elle-même est refusée"
    ]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        pytest.param("[" * 100_000, "rules.yaml:1:65", id="flow"),
        pytest.param(
            "".join("  " * i + f"k{i}:\n" for i in range(200)) + "  " * 200 + "x\n",
            "rules.yaml:64:127",
            id="block",
        ),
    ],
)
def test_deep_nesting_is_refused_at_the_level_over_the_bound(text: str, where: str):
    assert rules_problems(text) == [f"{where}: valeurs imbriquées sur plus de 64 niveaux : refusé"]


def test_too_many_values_are_refused_while_reading():
    text = "".join(f"k{i}: v\n" for i in range(6_000))
    assert rules_problems(text) == [
        "rules.yaml:5000:8: le fichier compte plus de 10\u202f000 valeurs : c'est trop pour ce"
        " fichier, refusé"
    ]


def test_a_rules_file_over_512_kib_is_refused_before_reading(tmp_path: Path):
    big = tmp_path / "big.yaml"
    big.write_text(BERNAY + "#" * 600_000 + "\n", encoding="utf-8")
    # Rounded up: a file a byte over a KiB is said one KiB more (whatever Bernay's size is).
    kib = -(-big.stat().st_size // 1024)
    assert kib > 512
    with pytest.raises(RulesInvalid) as caught:
        load_rules(big, {"menu"})
    kib = -(-big.stat().st_size // 1024)  # rounded up, whatever the Bernay rules' own size
    assert [str(p) for p in caught.value.problems] == [
        f"{big}:1:1: le fichier fait {kib} Kio : 512 Kio au plus, refusé"
    ]
    # The same text given directly (what-if page, hot reload of a text) is refused the same.
    assert rules_problems(big.read_text(encoding="utf-8")) == [
        f"rules.yaml:1:1: le fichier fait {kib} Kio : 512 Kio au plus, refusé"
    ]


def test_bernay_anchors_and_a_reused_anchor_name_still_load():
    assert "&vers_accueil" in BERNAY and "*vers_accueil" in BERNAY
    validate_text(BERNAY, "bernay.yaml", _bernay_catalogue())
    # Legal YAML: an anchor defined again replaces the first one (no warning raised as error).
    assert yaml_guard.load("a: &x 1\nb: &x 2\nc: *x\n") == {"a": 1, "b": 2, "c": 2}


def _bernay_catalogue() -> set[str]:
    return set(load_catalogue())


def test_configuration_and_catalogue_are_guarded_too(tmp_path: Path):
    config = tmp_path / "decroche.yaml"
    config.write_text("web: &w {town: &t [*w]}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(config, environ={})
    assert str(refused.value) == (
        f"{config}:1:20: l'alias *w est employé dans la définition même de son ancre &w"
        " (ligne 1) : une valeur qui se contient elle-même est refusée"
    )
    catalogue = tmp_path / "fr.yaml"
    catalogue.write_text(laughs(9, 9), encoding="utf-8")
    with pytest.raises(CatalogueError) as refused_too:
        load_catalogue(catalogue)
    assert str(refused_too.value).startswith(f"{catalogue}:5:10: l'alias *l3 porte le document")
    catalogue.write_text("menu: [texte\n", encoding="utf-8")
    with pytest.raises(CatalogueError) as syntax:
        load_catalogue(catalogue)
    assert str(syntax.value).startswith(f"{catalogue}:2:1: YAML invalide")


# --- random and adversarial YAML under a memory limit ------------------------------------------


class Worker:
    """The child process loading texts under ``RLIMIT_AS`` (tests/yaml_worker.py)."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.yaml_worker", str(MEMORY_MB)],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.slowest = (0.0, "")

    def load(self, kind: str, text: str) -> dict[str, object]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps({"kind": kind, "text": text}) + "\n")
        self.process.stdin.flush()
        ready, _, _ = select.select([self.process.stdout], [], [], ANSWER_WITHIN_S)
        line = self.process.stdout.readline() if ready else ""
        if not line:
            self.process.kill()
            _, err = self.process.communicate()
            pytest.fail(f"the loader gave no answer for {kind} {text[:200]!r}:\n{err[-3000:]}")
        answer: dict[str, object] = json.loads(line)
        seconds = float(answer["seconds"])  # type: ignore[arg-type]
        if seconds > self.slowest[0]:
            self.slowest = (seconds, f"{kind} {text[:80]!r} ({len(text)} characters)")
        return answer

    def close(self) -> None:
        self.process.communicate(timeout=30)  # closes stdin: the worker ends


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    started = Worker()
    yield started
    started.close()
    # Measured, not asserted: shown with -s, and in bench.
    print(f"\nslowest YAML load: {started.slowest[0]:.3f} s for {started.slowest[1]}")


KINDS = st.sampled_from(["rules", "config", "catalogue"])
PLAIN = st.text(alphabet="abcxyz019 -_:é'\"", max_size=12)


@st.composite
def anchored(draw: st.DrawFn) -> str:
    """Random flow-style YAML where any value may be anchored, aliased, merged, or recursive."""
    closed: list[str] = []
    opened: list[str] = []

    def value(depth: int) -> str:
        kinds = ["scalar", "alias", "recursive", "seq", "map"] if depth < 8 else ["scalar"]
        kind = draw(st.sampled_from(kinds))
        if kind == "alias" and closed:
            return "*" + draw(st.sampled_from(closed))
        if kind == "recursive" and opened and draw(st.booleans()):
            return "*" + draw(st.sampled_from(opened))
        if kind in ("scalar", "alias", "recursive"):
            return json.dumps(draw(PLAIN), ensure_ascii=False)
        name = f"a{len(closed) + len(opened)}"
        anchor = draw(st.booleans())
        if anchor:
            opened.append(name)
        count = draw(st.integers(0, 10))
        if kind == "seq":
            body = "[" + ", ".join(value(depth + 1) for _ in range(count)) + "]"
        else:
            items = [f"k{i}: {value(depth + 1)}" for i in range(count)]
            if closed and draw(st.booleans()):
                items.append("<<: *" + draw(st.sampled_from(closed)))
            body = "{" + ", ".join(items) + "}"
        if anchor:
            opened.remove(name)
            closed.append(name)
            return f"&{name} {body}"
        return body

    top = draw(st.integers(1, 12))
    return "".join(f"t{i}: {value(0)}\n" for i in range(top))


@st.composite
def adversarial(draw: st.DrawFn) -> str:
    """Known shapes of attack, at random sizes: bombs, nesting, huge scalars, mutations."""
    shape = draw(st.sampled_from(["laughs", "deep", "huge", "bernay", "many"]))
    if shape == "laughs":
        return laughs(
            draw(st.integers(2, 12)), draw(st.integers(1, 10)), draw(PLAIN.filter(bool)) or "x"
        )
    if shape == "deep":
        n = draw(st.integers(1, 200_000))
        opening, closing = draw(st.sampled_from([("[", "]"), ("{", "}"), ("{a: ", "}")]))
        return opening * n + closing * draw(st.integers(0, n))
    if shape == "huge":
        size = draw(st.sampled_from([1_000, 100_000, 400_000, 600_000]))
        copies = draw(st.integers(0, 30))
        quote = draw(st.sampled_from(["", '"', "'"]))
        big = f"{quote}{'y' * size}{quote}"
        return f"big: &big {big}\nmore: [{', '.join(['*big'] * copies)}]\n"
    if shape == "many":
        return "[" + "1, " * draw(st.integers(1, 200_000)) + "]\n"
    at = draw(st.integers(0, len(BERNAY)))
    return BERNAY[:at] + draw(anchored()) + BERNAY[at:]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(kind=KINDS, text=st.one_of(anchored(), adversarial()))
def test_any_yaml_is_accepted_or_refused_clearly_within_bounded_memory(
    worker: Worker, kind: str, text: str
) -> None:
    answer = worker.load(kind, text)
    assert answer["outcome"] in ("accepted", "refused"), (
        f"{kind} {text[:300]!r}:\n{answer['detail']}"
    )
    if answer["outcome"] == "refused":
        assert str(answer["detail"]).strip()
