from pathlib import Path

import pytest
from click.testing import CliRunner

from decroche.cli import main
from decroche.config import ConfigError, load_config


def test_defaults_need_no_file() -> None:
    config = load_config(None, environ={})
    assert config.database_url() == "sqlite:///data/decroche.db"
    assert config.ari.app == "decroche"


def test_environment_overrides_secrets(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("ari:\n  url: http://pbx:8088/ari\n", encoding="utf-8")
    config = load_config(path, environ={"DECROCHE_ARI__PASSWORD": "s3cret"})
    assert config.ari.url == "http://pbx:8088/ari"
    assert config.ari.password.get_secret_value() == "s3cret"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ari:\n  urll: x\n", r"c\.yaml : ari\.urll : clé inconnue"),
        ("web:\n  port: huit\n", r"c\.yaml : web\.port : nombre entier attendu \(écrit : 'huit'\)"),
        ("storage:\n  retention_months: 0\n", r"storage\.retention_months : doit être au moins 1"),
        ("web:\n  secure_cookies: peut-être\n", r"web\.secure_cookies : true ou false attendu"),
        ("ari: [1, 2]\n", r"c\.yaml : ari : section attendue"),
        ("ari:\n  url: [x\n", r"c\.yaml:\d+:\d+: syntaxe YAML : crochet fermant « \] » manquant"),
        ("- a\n- b\n", r"la configuration doit être une suite de sections"),
        ("web:\n  session_secret: x\n", r"web\.session_secret : réglage supprimé"),
    ],
)
def test_errors_are_french_and_located(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(path, environ={})


def test_every_problem_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("ari:\n  urll: x\nweb:\n  port: -1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    lines = str(caught.value).splitlines()
    assert len(lines) == 2
    assert all(line.startswith(f"{path} : ") for line in lines)


def test_a_file_not_in_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes("web:\n  town: Évreux\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="n'est pas en UTF-8"):
        load_config(path, environ={})


@pytest.mark.parametrize(
    "command",
    [
        ["indicators", "--from", "2026-10-01", "--to", "2026-10-31"],
        ["report", "monthly", "--month", "2026-10"],
        ["rules", "check"],
        ["survey", "list", "--from", "2026-10-01", "--to", "2026-10-31"],
        ["users", "list"],
        ["db", "status"],
    ],
)
def test_a_bad_configuration_is_one_french_line_not_a_traceback(
    tmp_path: Path, command: list[str]
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("web:\n  townn: Testeville\n", encoding="utf-8")
    result = CliRunner().invoke(main, [*command, "--config", str(path)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert (
        result.output.strip() == f"Erreur : {path} : web.townn : clé inconnue (faute de frappe ?)"
    )


def test_a_missing_configuration_file_is_named(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["rules", "check", "--config", str(tmp_path / "none.yaml")])
    assert result.exit_code == 1
    assert "le fichier de configuration" in result.output and "n'existe pas" in result.output
