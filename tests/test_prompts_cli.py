"""``decroche prompts build`` and ``decroche prompts durations``."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from decroche.cli import main
from ivr_prompts.build import estimate_duration
from ivr_prompts.catalogue import load_catalogue


@pytest.fixture
def catalogue(tmp_path):
    path = tmp_path / "fr.yaml"
    path.write_text(
        "bienvenue: Bonjour, mairie de Bernay.\nmerci: Merci de votre appel.\n", encoding="utf-8"
    )
    return path


def _run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


@pytest.mark.audio
def test_build_then_nothing_to_do(catalogue, tmp_path):
    out = tmp_path / "sons"
    first = _run("prompts", "build", "--catalogue", str(catalogue), "--out", str(out))
    assert first.exit_code == 0, first.output
    assert "bienvenue (synthèse) : nouveau message" in first.output
    assert "2 messages fabriqués, 0 à jour." in first.output
    assert (out / "merci.wav").is_file() and (out / "merci.sln16").is_file()
    second = _run("prompts", "build", "--catalogue", str(catalogue), "--out", str(out))
    assert second.exit_code == 0
    assert "0 message fabriqué, 2 à jour." in second.output


@pytest.mark.audio
def test_build_names_odd_recordings(catalogue, tmp_path):
    recorded = tmp_path / "enregistrements"
    recorded.mkdir()
    (recorded / "acceuil.mp3").write_bytes(b"x")
    (recorded / "bienvenu.wav").write_bytes(b"x")
    result = _run(
        "prompts", "build", "--catalogue", str(catalogue), "--out", str(tmp_path / "o"),
        "--recorded", str(recorded),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "ignoré : " in result.output and "acceuil.mp3" in result.output
    assert "bienvenu.wav ne correspond à aucun message du catalogue" in result.output


@pytest.mark.audio
def test_build_default_out_is_under_the_configured_data_dir(catalogue, tmp_path):
    config = tmp_path / "decroche.yaml"
    config.write_text(f"data_dir: {tmp_path / 'donnees'}\n", encoding="utf-8")
    result = _run("prompts", "build", "--catalogue", str(catalogue), "--config", str(config))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "donnees" / "sounds" / "fr" / "decroche" / "bienvenue.wav").is_file()


def test_missing_tools_give_the_debian_packages(catalogue, tmp_path):
    result = CliRunner().invoke(
        main,
        ["prompts", "build", "--catalogue", str(catalogue), "--out", str(tmp_path / "o")],
        env={"PATH": str(tmp_path)},
    )
    assert result.exit_code == 1
    assert "apt install espeak-ng sox" in result.output
    assert not (tmp_path / "o" / "bienvenue.wav").exists()


@pytest.mark.audio
def test_failed_prompts_make_the_command_fail(catalogue, tmp_path):
    recorded = tmp_path / "enregistrements"
    recorded.mkdir()
    (recorded / "merci.wav").write_bytes(b"not audio")
    result = _run(
        "prompts", "build", "--catalogue", str(catalogue), "--out", str(tmp_path / "o"),
        "--recorded", str(recorded),
    )  # fmt: skip
    assert result.exit_code == 1
    assert "échec : merci" in result.output
    assert "1 message n'a pas pu être fabriqué" in result.output
    assert (tmp_path / "o" / "bienvenue.wav").is_file()  # the others were built


def test_bad_catalogue_is_a_clear_error(tmp_path):
    bad = tmp_path / "fr.yaml"
    bad.write_text("bienvenue: [1, 2]\n", encoding="utf-8")
    result = _run("prompts", "durations", "--catalogue", str(bad), "--out", str(tmp_path))
    assert result.exit_code == 1
    assert "bienvenue" in result.output and str(bad) in result.output
    bad.write_text("bienvenue: 'unterminated\n", encoding="utf-8")
    result = _run("prompts", "durations", "--catalogue", str(bad), "--out", str(tmp_path))
    assert result.exit_code == 1
    assert "YAML invalide" in result.output


@pytest.mark.audio
def test_durations_json_measured_or_estimated(catalogue, tmp_path):
    out = tmp_path / "o"
    before = _run(
        "prompts", "durations", "--catalogue", str(catalogue), "--out", str(out), "--json"
    )
    texts = load_catalogue(catalogue)
    assert json.loads(before.output) == {
        f"sound:decroche/{pid}": estimate_duration(text) for pid, text in texts.items()
    }
    assert _run("prompts", "build", "--catalogue", str(catalogue), "--out", str(out)).exit_code == 0
    after = json.loads(
        _run(
            "prompts", "durations", "--catalogue", str(catalogue), "--out", str(out), "--json"
        ).output
    )
    assert set(after) == set(json.loads(before.output))
    assert after != json.loads(before.output)  # now measured on the audio (3 decimals)
    table = _run("prompts", "durations", "--catalogue", str(catalogue), "--out", str(out))
    assert "sound:decroche/bienvenue" in table.output and " s" in table.output


@pytest.mark.audio
def test_force_renders_everything_again(catalogue, tmp_path):
    out = str(tmp_path / "o")
    assert _run("prompts", "build", "--catalogue", str(catalogue), "--out", out).exit_code == 0
    again = _run("prompts", "build", "--catalogue", str(catalogue), "--out", out, "--force")
    assert again.exit_code == 0
    assert again.output.count("reconstruction demandée (--force)") == 2
    assert "2 messages fabriqués, 0 à jour." in again.output
