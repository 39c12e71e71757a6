"""``decroche users``, ``decroche report`` through the real command group."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from decroche.cli import main
from reports.accounts import AccountStore, Role
from reports.errors import InputError
from reports.periods import month_period, period_from_query, year_period
from telephony.records.engine import open_store
from telephony.records.testing import fill, town_calls


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{(tmp_path / 'records.db').as_posix()}"
    database = open_store(url)
    fill(database, town_calls(date(2026, 9, 25), 40, 3))
    database.dispose()
    return url


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input)


def test_users_add_list_passwd_remove(db_url: str) -> None:
    result = run("users", "add", "marie", "--role", "quality", "--db", db_url, input="x" * 12)
    assert result.exit_code == 0, result.output
    assert "compte marie créé (quality)" in result.output
    result = run(
        "users",
        "add",
        "paul",
        "--role",
        "agent",
        "--services",
        "ccas,etat_civil",
        "--db",
        db_url,
        input="y" * 12 + "\n",
    )
    assert result.exit_code == 0, result.output
    listed = run("users", "list", "--db", db_url).output
    assert "marie\tquality\t\n" in listed and "paul\tagent\tccas,etat_civil" in listed
    database = open_store(db_url)
    try:
        accounts = AccountStore(database.engine)
        assert accounts.authenticate("paul", "y" * 12).role is Role.AGENT
        assert run("users", "passwd", "paul", "--db", db_url, input="z" * 12).exit_code == 0
        assert accounts.authenticate("paul", "z" * 12).services == ("ccas", "etat_civil")
        assert run("users", "remove", "paul", "--db", db_url).exit_code == 0
        assert [u.login for u in accounts.users()] == ["marie"]
    finally:
        database.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x", "--role", "boss"], "Valeur invalide pour '--role'"),
        (["marie", "--role", "quality"], "au moins 10 caractères"),
        (["Marie!", "--role", "quality"], "identifiant « Marie! »"),
        (["paul", "--role", "agent"], "un agent a besoin de --services"),
        (["paul", "--role", "it", "--services", "ccas"], "--services ne s'applique qu'aux agents"),
        (["paul", "--role", "agent", "--services", "CCAS!"], "« CCAS! » n'est pas un identifiant"),
    ],
)
def test_users_add_refuses_bad_input_clearly(db_url: str, args: list[str], message: str) -> None:
    password = "short" if "quality" in args and "marie" in args else "p" * 12
    result = run("users", "add", *args, "--db", db_url, input=password)
    assert result.exit_code != 0
    assert message in result.output


def test_users_add_twice_is_an_error(db_url: str) -> None:
    assert run("users", "add", "ann", "--role", "it", "--db", db_url, input="a" * 12).exit_code == 0
    result = run("users", "add", "ann", "--role", "it", "--db", db_url, input="a" * 12)
    assert result.exit_code == 1
    assert "le compte « ann » existe déjà" in result.output


def test_report_monthly_writes_once_then_needs_force(db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["report", "monthly", "--month", "2026-10", "--db", db_url, "--out", str(out)]
    result = run(*args, "--no-pdf")
    assert result.exit_code == 0, result.output
    assert "[1/7] indicateurs et objectifs…" in result.output
    assert (out / "bilan-mensuel-2026-10.html").is_file()
    again = run(*args, "--no-pdf")
    assert again.exit_code == 1
    assert "déjà produit" in again.output
    assert run(*args, "--no-pdf", "--force").exit_code == 0
    bad = run("report", "monthly", "--month", "2026-13", "--db", db_url, "--out", str(out))
    assert bad.exit_code == 1 and "« 2026-13 » n'est pas un mois valide" in bad.output


def test_report_annual_and_due(db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run(
        "report", "annual", "--year", "2026", "--db", db_url, "--out", str(out), "--no-pdf"
    )
    assert result.exit_code == 0, result.output
    html = (out / "bilan-annuel-2026.html").read_text(encoding="utf-8")
    assert "Revue de direction de l’accueil téléphonique — 2026" in html
    assert "Référence TEL-RD-2026 — version 1" in html


def test_periods_parse_and_refuse() -> None:
    assert month_period("2026-02").end == date(2026, 2, 28)
    assert year_period("2024").end == date(2024, 12, 31)
    assert period_from_query({}, date(2026, 10, 20)).label_fr == "octobre 2026"
    assert (
        period_from_query({"du": "2026-10-01", "au": "2026-10-07"}, date(2026, 10, 20)).label_fr
        == "du 01/10/2026 au 07/10/2026"
    )
    with pytest.raises(InputError, match="du : « hier » n'est pas une date"):
        period_from_query({"du": "hier", "au": "2026-10-07"}, date(2026, 10, 20))
    with pytest.raises(InputError, match="trop longue"):
        period_from_query({"du": "2024-01-01", "au": "2026-10-07"}, date(2026, 10, 20))


def test_commands_are_wired_into_decroche() -> None:
    listed = run("--help").output
    for name in ("report", "users", "web"):
        assert name in listed
    assert "--host" in run("web", "--help").output
    assert "--month" in run("report", "monthly", "--help").output


def test_web_refuses_an_unreachable_database_clearly(tmp_path: Path) -> None:
    result = run("web", "--db", "sqlite:////proc/no-such-dir/records.db")
    assert result.exit_code == 1, result.exception
    assert "la base des appels /proc/no-such-dir/records.db n'existe pas" in result.output
