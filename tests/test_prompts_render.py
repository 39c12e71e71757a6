"""Real renders with espeak-ng and sox: formats, idempotence, recordings, failures."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ivr_prompts.build import (
    MANIFEST_NAME,
    PromptBuildError,
    build_prompts,
    estimate_duration,
    prompt_durations,
    read_manifest,
    wav_duration,
)

CATALOGUE = {
    "bienvenue": "Bonjour, vous êtes en relation avec la mairie de Bernay.",
    "merci": "Merci de votre appel, au revoir.",
}


def _soxi(flag: str, path: Path) -> str:
    return subprocess.run(
        ["sox", "--i", flag, str(path)], capture_output=True, check=True, text=True
    ).stdout.strip()


def _mtimes(directory: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in directory.iterdir()}


pytestmark = pytest.mark.audio


@pytest.fixture
def built(tmp_path):
    out = tmp_path / "sounds" / "fr" / "decroche"
    result = build_prompts(CATALOGUE, out)
    assert [job.prompt_id for job in result.rendered] == list(CATALOGUE)
    assert result.failed == [] and result.ignored == ()
    return out


def test_renders_the_formats_asterisk_plays(built):
    for pid in CATALOGUE:
        wav = built / f"{pid}.wav"
        assert _soxi("-r", wav) == "8000"
        assert _soxi("-c", wav) == "1"
        assert _soxi("-b", wav) == "16"
        assert _soxi("-e", wav) == "Signed Integer PCM"
        # sln16 is headerless signed 16-bit at 16 kHz: same length as the WAV at twice the rate.
        sln16 = built / f"{pid}.sln16"
        assert abs(sln16.stat().st_size / (2 * 16000) - wav_duration(wav)) < 0.01
    assert sorted(p.name for p in built.iterdir()) == sorted(
        [MANIFEST_NAME] + [f"{pid}.{ext}" for pid in CATALOGUE for ext in ("wav", "sln16")]
    )


def test_wav_duration_agrees_with_sox_and_the_estimate_is_close(built):
    durations = prompt_durations(CATALOGUE, built)
    for pid, text in CATALOGUE.items():
        measured = float(_soxi("-D", built / f"{pid}.wav"))
        assert durations[pid] == pytest.approx(measured, abs=1e-3)
        assert measured > 1.0
        assert estimate_duration(text) == pytest.approx(measured, rel=0.25)


def test_second_build_renders_nothing(built):
    before = _mtimes(built)
    result = build_prompts(CATALOGUE, built)
    assert result.rendered == [] and result.plan.jobs == ()
    assert set(result.plan.up_to_date) == set(CATALOGUE)
    assert _mtimes(built) == before


def test_only_the_edited_or_missing_prompt_is_rendered_again(built):
    (built / "merci.sln16").unlink()
    edited = {**CATALOGUE, "bienvenue": "Bonjour, ici la mairie de Bernay."}
    old_merci_wav = (built / "merci.wav").stat().st_mtime_ns
    report = build_prompts(edited, built)
    assert {job.prompt_id: job.reason for job in report.rendered} == {
        "bienvenue": "texte modifié",
        "merci": "fichier audio manquant",
    }
    assert (built / "merci.sln16").is_file()
    assert (built / "merci.wav").stat().st_mtime_ns != old_merci_wav
    assert build_prompts(edited, built).rendered == []


def test_a_recording_replaces_the_synthesis_and_is_converted(built, tmp_path):
    recorded = tmp_path / "enregistrements"
    recorded.mkdir()
    # 1.5 s of 44.1 kHz stereo, as a town's recording tool would produce.
    subprocess.run(
        ["sox", "-n", "-r", "44100", "-c", "2", str(recorded / "merci.wav"), "synth", "1.5",
         "sine", "440"],
        check=True,
    )  # fmt: skip
    report = build_prompts(CATALOGUE, built, recorded)
    assert [(j.prompt_id, j.source) for j in report.rendered] == [("merci", "recorded")]
    assert _soxi("-r", built / "merci.wav") == "8000"
    assert _soxi("-c", built / "merci.wav") == "1"
    assert wav_duration(built / "merci.wav") == pytest.approx(1.5, abs=0.01)
    assert read_manifest(built)["merci"].source == "recorded"
    # Removing the recording brings the synthesised voice back.
    (recorded / "merci.wav").unlink()
    report = build_prompts(CATALOGUE, built, recorded)
    assert [(j.prompt_id, j.source) for j in report.rendered] == [("merci", "synth")]
    assert wav_duration(built / "merci.wav") > 1.6


def test_a_broken_recording_is_reported_and_the_previous_audio_kept(built, tmp_path):
    recorded = tmp_path / "enregistrements"
    recorded.mkdir()
    (recorded / "merci.wav").write_bytes(b"this is not audio")
    before = (built / "merci.wav").read_bytes()
    report = build_prompts(CATALOGUE, built, recorded)
    assert report.rendered == []
    [(job, message)] = report.failed
    assert job.prompt_id == "merci"
    assert "recording" in message and str(recorded / "merci.wav") in message
    assert (built / "merci.wav").read_bytes() == before
    assert read_manifest(built)["merci"].source == "synth"
    assert not [p for p in built.iterdir() if p.name.startswith(".")]  # no temporary left


def test_text_starting_with_a_dash_is_spoken_not_parsed_as_an_option(tmp_path):
    report = build_prompts({"tiret": "-h ou --help, tapez 1."}, tmp_path)
    assert report.failed == []
    assert wav_duration(tmp_path / "tiret.wav") > 1.0


def test_an_output_folder_that_cannot_be_created_is_a_clear_error(tmp_path):
    blocker = tmp_path / "fichier"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(PromptBuildError, match=r"cannot create the sounds folder"):
        build_prompts(CATALOGUE, blocker / "sons")
