"""Counts as a French reader writes them: « 0 appel enregistré », « 1 appel enregistré »,
« 6 appels enregistrés », never « appel(s) enregistré(s) ».

The one function (``routing_rules.messages.counted``) as a table of cases, then the command
line's main outputs rendered with 0, 1 and several: each agrees in number and none writes an
untidy plural.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner, Result

from audit.results import AuditRun, Check, PathResult, RunStatus, Trigger, Verdict
from decroche.cli import main
from decroche.commands.audit import _summary
from decroche.demo import _per_second
from decroche.faults import records_problems
from routing_rules.messages import agreeing, counted
from telephony.records.writer import WriterState, WriterStatus
from tests.test_glossary import untidy_plurals

NNBSP = "\u202f"


@pytest.mark.parametrize(
    ("n", "one", "many", "words"),
    [
        (0, "appel enregistré", "appels enregistrés", "0 appel enregistré"),
        (1, "appel enregistré", "appels enregistrés", "1 appel enregistré"),
        (2, "appel enregistré", "appels enregistrés", "2 appels enregistrés"),
        (6, "appel enregistré", "appels enregistrés", "6 appels enregistrés"),
        (1234, "appel enregistré", "appels enregistrés", f"1{NNBSP}234 appels enregistrés"),
        (-1, "appel", None, "-1 appel"),
        (3, "message", None, "3 messages"),  # the plural by default: the singular and « s »
        (5, "créneau", "créneaux", "5 créneaux"),
        (27, "conforme", None, "27 conformes"),
        (
            1,
            "message n'a pas pu être fabriqué",
            "messages n'ont pas pu être fabriqués",
            "1 message n'a pas pu être fabriqué",
        ),
    ],
)
def test_a_count_agrees_with_its_number(n: int, one: str, many: str | None, words: str) -> None:
    assert counted(n, one, many) == words


def test_zero_can_be_said_in_words_and_words_can_stand_apart() -> None:
    assert counted(0, "action ouverte", none="aucune action ouverte") == "aucune action ouverte"
    assert counted(2, "action ouverte", "actions ouvertes", none="aucune") == "2 actions ouvertes"
    with pytest.raises(ValueError, match="plural of the phrase 'action ouverte'"):
        counted(1, "action ouverte")  # « 2 action ouvertes » otherwise
    assert [agreeing(n, "lue", "lues") for n in (0, 1, 1.5, 2)] == ["lue", "lue", "lue", "lues"]


def _run(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert not untidy_plurals(result.output), result.output
    return result


def _queue_log(path: Path, calls: int, garbage: int) -> Path:
    """``calls`` callers who each wait and hang up, and ``garbage`` lines that are no event."""
    lines = []
    for i in range(calls):
        at = 1_700_000_000 + 100 * i
        lines.append(f"{at}|{at}.{i}|accueil|NONE|ENTERQUEUE||06123456{i:02d}|1")
        lines.append(f"{at + 5}|{at}.{i}|accueil|NONE|ABANDON|1|1|5")
    lines += ["ceci n'est pas une ligne du queue_log"] * garbage
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("calls", "garbage", "said"),
    [
        (
            0,
            0,
            [
                ": 0 ligne lue, 0 appel trouvé.",
                "0 appel importé, 0 déjà présent.",
                "; 0 appel enregistré.",
                "0 appel antérieur au 01/01/2024 supprimé ;",
            ],
        ),
        (
            1,
            1,
            [
                ": 3 lignes lues, 1 appel trouvé.",
                "1 appel importé, 0 déjà présent.",
                "1 ligne mal formée ignorée :",
                "; 1 appel enregistré.",
                "0 appel importé, 1 déjà présent.",
                "1 appel antérieur au 01/01/2024 supprimé ;",
            ],
        ),
        (
            3,
            2,
            [
                ": 8 lignes lues, 3 appels trouvés.",
                "3 appels importés, 0 déjà présent.",
                "2 lignes mal formées ignorées :",
                "; 3 appels enregistrés.",
                "0 appel importé, 3 déjà présents.",
                "3 appels antérieurs au 01/01/2024 supprimés ;",
            ],
        ),
    ],
)
def test_the_records_commands_agree_in_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, calls: int, garbage: int, said: list[str]
) -> None:
    monkeypatch.setenv("DECROCHE_STORAGE__PSEUDONYM_SECRET", "a-long-enough-test-secret")
    log = _queue_log(tmp_path / "queue_log", calls, garbage)
    db = ["--db", f"sqlite:///{tmp_path / 'records.db'}"]
    first = _run("import", "queue-log", str(log), *db)
    status = _run("db", "status", *db)
    again = _run("import", "queue-log", str(log), *db)
    purged = _run("purge", "--before", "2024-01-01", *db)
    output = first.output + status.output + again.output + purged.output
    assert [s for s in said if s not in output] == [], output


def test_an_unfinished_call_and_a_latin_1_line_are_said_in_the_singular(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DECROCHE_STORAGE__PSEUDONYM_SECRET", "a-long-enough-test-secret")
    log = tmp_path / "queue_log"
    log.write_bytes(
        "1700009000|1700009000.1|état_civil|NONE|ENTERQUEUE||0612345678|1\n".encode("latin-1")
    )
    out = _run("import", "queue-log", str(log), "--db", f"sqlite:///{tmp_path / 'r.db'}").output
    assert "1 appel inachevé enregistré « interrompu »." in out
    assert "1 ligne hors UTF-8 (ligne 1) lue en Windows-1252 (latin-1)" in out


def _prompts_built(rendered: int, failed: int) -> SimpleNamespace:
    job = SimpleNamespace(prompt_id="bienvenue", source="tts", reason="nouveau message")
    return SimpleNamespace(
        plan=SimpleNamespace(up_to_date=["merci"] * 2, unmatched_recordings=[], orphans=[]),
        report=SimpleNamespace(rendered=[job] * rendered, failed=[(job, "sox a échoué")] * failed),
        ignored=[],
    )


@pytest.mark.parametrize(
    ("rendered", "failed", "said"),
    [
        (0, 0, "0 message fabriqué, 2 à jour."),
        (1, 1, "1 message fabriqué, 2 à jour."),
        (4, 2, "4 messages fabriqués, 2 à jour."),
    ],
)
def test_the_prompts_build_agrees_in_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rendered: int, failed: int, said: str
) -> None:
    monkeypatch.setattr(
        "decroche.commands.prompts.build_prompts",
        lambda *args, **kwargs: _prompts_built(rendered, failed),
    )
    config = tmp_path / "decroche.yaml"
    config.write_text(f"data_dir: {tmp_path}\n", encoding="utf-8")
    result = _run("prompts", "build", "--config", str(config))
    assert said in result.output
    if failed == 1:
        assert "Erreur : 1 message n'a pas pu être fabriqué" in result.output
    elif failed:
        assert f"Erreur : {failed} messages n'ont pas pu être fabriqués" in result.output


def _audit(passed: int, failed: int) -> AuditRun:
    def path(i: int, verdict: Verdict) -> PathResult:
        check = Check(
            code="destination", name="destination", ok=verdict is Verdict.PASSED, detail=""
        )
        return PathResult(
            path_id=f"p{i}", label=f"parcours {i}", dialled="0232000000", keys=(), kind="menu",
            verdict=verdict, expected="service:accueil", checks=(check,),
        )  # fmt: skip

    verdicts = [Verdict.PASSED] * passed + [Verdict.FAILED] * failed
    return AuditRun(
        id="a1", started_at=datetime(2026, 12, 1, tzinfo=UTC), trigger=Trigger.COMMAND,
        rules_version="v", rules_source="rules.yaml", status=RunStatus.DONE,
        results=tuple(path(i, v) for i, v in enumerate(verdicts)),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("passed", "failed", "tally"),
    [
        (0, 0, "0 parcours, 0 conforme, 0 en échec"),
        (1, 0, "1 parcours, 1 conforme, 0 en échec"),
        (0, 1, "1 parcours, 0 conforme, 1 en échec"),
        (27, 0, "27 parcours, 27 conformes, 0 en échec"),
        (25, 2, "27 parcours, 25 conformes, 2 en échec"),
    ],
)
def test_an_audit_run_is_summed_up_in_agreement(passed: int, failed: int, tally: str) -> None:
    run = _audit(passed, failed)
    # « decroche audit run » and the demo's summary both say it so.
    assert run.tally == tally
    assert _summary(run) == f"Audit a1 : {tally}."


@pytest.mark.parametrize(
    ("paths", "said"),
    [
        ("standard.42", "parcours inconnu : standard.42"),
        ("standard.42,standard.43", "parcours inconnus : standard.42, standard.43"),
    ],
)
def test_unknown_audit_paths_agree_in_number(tmp_path: Path, paths: str, said: str) -> None:
    config = tmp_path / "decroche.yaml"
    config.write_text(f"data_dir: {tmp_path}\n", encoding="utf-8")
    refused = CliRunner().invoke(main, ["audit", "run", "--config", str(config), "--paths", paths])
    assert refused.exit_code == 2
    assert said in refused.output
    assert not untidy_plurals(refused.output)


def test_the_demo_says_its_clock_in_french() -> None:
    assert [_per_second(s) for s in (1, 1.5, 2, 60, 90, 600)] == [
        "1 seconde", "1,5 seconde", "2 secondes", "1 minute", "1,5 minute", "10 minutes",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("calls", "said"),
    [
        (1, "1 appel gardé en mémoire seulement, perdu si le service s'arrête"),
        (16, "16 appels gardés en mémoire seulement, perdus si le service s'arrête"),
    ],
)
def test_calls_held_in_memory_agree_in_number(calls: int, said: str) -> None:
    status = WriterStatus(
        state=WriterState.JOURNALING, queued=0, journal_backlog=calls, held_in_memory=calls,
        calls_in_memory=calls, written=0, journaled=0, replayed=0, skipped=0, rejected=0,
        interrupted_closed=0, last_error=None, journal_error=None,
    )  # fmt: skip
    problems = records_problems(status)
    backlog = counted(calls, "enregistrement")
    written = "écrit" if calls == 1 else "écrits"
    assert f"{backlog} en attente dans le journal, {written} à son retour" in problems[0]
    assert said in problems[1]
