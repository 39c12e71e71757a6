"""Pure planning of the prompt build, manifest, recordings scan, tool lookup, estimates."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest

from ivr_prompts.build import (
    AudioTools,
    ManifestEntry,
    PromptBuildError,
    Recording,
    ToolMissingError,
    Voice,
    estimate_duration,
    media_durations,
    plan_build,
    prompt_duration,
    read_manifest,
    recording_digest,
    scan_recordings,
    synth_digest,
    wav_duration,
    write_manifest,
)

CATALOGUE = {"bienvenue": "Bonjour, mairie de Bernay.", "merci": "Merci de votre appel."}


def _synced(catalogue: dict[str, str]) -> dict[str, ManifestEntry]:
    return {
        pid: ManifestEntry("synth", synth_digest(text, Voice())) for pid, text in catalogue.items()
    }


def _rec(name: str, data: bytes = b"RIFF") -> Recording:
    return Recording(Path(f"/rec/{name}.wav"), recording_digest(data))


def _jobs(plan):
    return {job.prompt_id: (job.source, job.reason) for job in plan.jobs}


@pytest.mark.parametrize(
    ("manifest", "complete", "recordings", "force", "expected"),
    [
        # nothing built yet
        ({}, set(), {}, False, {"bienvenue": ("synth", "nouveau message"),
                                "merci": ("synth", "nouveau message")}),
        # all up to date
        (_synced(CATALOGUE), set(CATALOGUE), {}, False, {}),
        # a file deleted by hand
        (_synced(CATALOGUE), {"merci"}, {}, False,
         {"bienvenue": ("synth", "fichier audio manquant")}),
        # text edited in the catalogue since the last build
        ({**_synced(CATALOGUE), "merci": ManifestEntry("synth", "old")}, set(CATALOGUE), {},
         False, {"merci": ("synth", "texte modifié")}),
        # a recording dropped in
        (_synced(CATALOGUE), set(CATALOGUE), {"merci": _rec("merci")}, False,
         {"merci": ("recorded", "enregistrement ajouté")}),
        # the recording replaced by another
        ({**_synced(CATALOGUE), "merci": ManifestEntry("recorded", "old")}, set(CATALOGUE),
         {"merci": _rec("merci", b"new")}, False,
         {"merci": ("recorded", "enregistrement modifié")}),
        # the recording removed: back to synthesis
        ({**_synced(CATALOGUE), "merci": ManifestEntry("recorded", "old")}, set(CATALOGUE), {},
         False, {"merci": ("synth", "enregistrement retiré : synthèse")}),
        # --force
        (_synced(CATALOGUE), set(CATALOGUE), {}, True,
         {"bienvenue": ("synth", "reconstruction demandée (--force)"),
          "merci": ("synth", "reconstruction demandée (--force)")}),
    ],
    ids=["new", "up-to-date", "missing-file", "text-edited", "recording-added",
         "recording-changed", "recording-removed", "force"],
)  # fmt: skip
def test_plan_renders_only_what_is_new_stale_or_missing(
    manifest, complete, recordings, force, expected
):
    plan = plan_build(CATALOGUE, manifest, complete, recordings, force=force)
    assert _jobs(plan) == expected
    assert set(plan.up_to_date) == set(CATALOGUE) - set(expected)


def test_recorded_recording_unchanged_is_up_to_date():
    rec = _rec("merci", b"same")
    manifest = {**_synced(CATALOGUE), "merci": ManifestEntry("recorded", rec.digest)}
    plan = plan_build(CATALOGUE, manifest, set(CATALOGUE), {"merci": rec})
    assert plan.jobs == ()


def test_plan_reports_unmatched_recordings_and_orphans_without_rendering_them():
    manifest = {**_synced(CATALOGUE), "ancien": ManifestEntry("synth", "x")}
    plan = plan_build(CATALOGUE, manifest, set(CATALOGUE), {"bienvenu": _rec("bienvenu")})
    assert plan.jobs == ()
    assert plan.unmatched_recordings == (Path("/rec/bienvenu.wav"),)
    assert plan.orphans == ("ancien",)


def test_voice_change_makes_every_synthesised_prompt_stale():
    slower = Voice(words_per_minute=120)
    assert synth_digest("Bonjour.", slower) != synth_digest("Bonjour.", Voice())
    plan = plan_build(CATALOGUE, _synced(CATALOGUE), set(CATALOGUE), {}, voice=slower)
    assert {job.reason for job in plan.jobs} == {"texte modifié"}
    assert len(plan.jobs) == 2


def test_tools_needed_follow_the_jobs():
    assert plan_build(CATALOGUE, _synced(CATALOGUE), set(CATALOGUE), {}).tools_needed() == set()
    only_recorded = plan_build(
        CATALOGUE, _synced(CATALOGUE), set(CATALOGUE), {"merci": _rec("merci")}
    )
    assert only_recorded.tools_needed() == {"sox"}
    assert plan_build(CATALOGUE, {}, set(), {}).tools_needed() == {"sox", "espeak-ng"}


def test_manifest_round_trip(tmp_path):
    manifest = {"a": ManifestEntry("synth", "d1"), "b": ManifestEntry("recorded", "d2")}
    write_manifest(tmp_path, manifest)
    assert read_manifest(tmp_path) == manifest
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]  # no temporary left


@pytest.mark.parametrize(
    "content", ["{not json", '{"version": 99, "prompts": {}}', "[1, 2]", '{"version": 1}']
)
def test_unreadable_manifest_means_render_everything_with_a_warning(tmp_path, caplog, content):
    (tmp_path / "manifest.json").write_text(content, encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        assert read_manifest(tmp_path) == {}
    assert "manifest.json" in caplog.text


def test_manifest_drops_malformed_entries(tmp_path):
    (tmp_path / "manifest.json").write_text(
        '{"version": 1, "prompts": {"a": {"source": "synth", "digest": "x"},'
        ' "b": {"source": "tts", "digest": "y"}, "c": "z"}}',
        encoding="utf-8",
    )
    assert read_manifest(tmp_path) == {"a": ManifestEntry("synth", "x")}


def test_scan_recordings_reads_wav_only_and_names_the_rest(tmp_path):
    (tmp_path / "bienvenue.wav").write_bytes(b"one")
    (tmp_path / "merci.WAV").write_bytes(b"two")
    (tmp_path / "menu.mp3").write_bytes(b"three")
    (tmp_path / ".DS_Store").write_bytes(b"")
    scan = scan_recordings(tmp_path)
    assert set(scan.recordings) == {"bienvenue", "merci"}
    assert scan.recordings["bienvenue"].digest == recording_digest(b"one")
    assert scan.ignored == (tmp_path / "menu.mp3",)


def test_scan_recordings_refuses_two_files_for_one_prompt(tmp_path):
    (tmp_path / "merci.wav").write_bytes(b"a")
    (tmp_path / "merci.WAV").write_bytes(b"b")
    if len(list(tmp_path.iterdir())) < 2:  # case-insensitive file system: nothing to refuse
        assert set(scan_recordings(tmp_path).recordings) == {"merci"}
        return
    with pytest.raises(PromptBuildError, match="two recordings for prompt 'merci'"):
        scan_recordings(tmp_path)


def test_scan_recordings_missing_folder(tmp_path):
    with pytest.raises(PromptBuildError, match="recordings folder not found"):
        scan_recordings(tmp_path / "nope")


def test_missing_tools_are_named_with_their_debian_package(tmp_path):
    with pytest.raises(
        ToolMissingError,
        match=r"espeak-ng, sox introuvables dans le PATH : installez les paquets Debian avec "
        r"« apt install espeak-ng sox »",
    ):
        AudioTools.locate(search_path=str(tmp_path))


@pytest.mark.audio
def test_only_the_needed_tools_are_required(tmp_path):
    sox = shutil.which("sox")
    assert sox is not None, "the Debian package sox is a test requirement"
    os.symlink(sox, tmp_path / "sox")
    tools = AudioTools.locate(("sox",), search_path=str(tmp_path))
    assert tools.sox == str(tmp_path / "sox")
    assert tools.espeak is None
    with pytest.raises(
        ToolMissingError,
        match=r"^espeak-ng introuvable.* le paquet Debian avec « apt install espeak-ng »$",
    ):
        AudioTools.locate(search_path=str(tmp_path))


def test_estimate_grows_with_text_and_pauses():
    short = estimate_duration("Merci.")
    assert 0.3 < short < 1.5
    assert estimate_duration("Merci, au revoir.") > estimate_duration("Merci au revoir")
    assert estimate_duration("a   b\n c") == estimate_duration("a b c")  # layout is not speech
    assert estimate_duration("Pour l'état civil, tapez 1. " * 5) > 5 * short


def test_duration_falls_back_to_estimate(tmp_path, caplog):
    text = "Bonjour, mairie de Bernay."
    assert prompt_duration(None, "x", text) == estimate_duration(text)
    assert prompt_duration(tmp_path, "x", text) == estimate_duration(text)  # not rendered
    (tmp_path / "x.wav").write_bytes(b"not a wav file at all")
    with caplog.at_level(logging.WARNING):
        assert prompt_duration(tmp_path, "x", text) == estimate_duration(text)
    assert "x.wav: not a readable WAV file" in caplog.text
    with pytest.raises(PromptBuildError, match=r"x\.wav"):
        wav_duration(tmp_path / "x.wav")


def test_media_durations_use_the_flow_sound_prefix():
    assert media_durations({"bienvenue": 3.5}) == {"sound:decroche/bienvenue": 3.5}


@pytest.mark.parametrize("bad", ["../etc/passwd", "sous/dossier", "a.b", "", "é"])
def test_prompt_ids_that_cannot_name_a_file_are_refused(bad):
    with pytest.raises(PromptBuildError, match="pas nommer un fichier son") as err:
        plan_build({"ok_id": "Bonjour.", bad: "Texte."}, {}, set(), {})
    assert repr(bad) in str(err.value) and "'ok_id'" not in str(err.value)


def test_the_shipped_catalogue_can_be_planned():
    from ivr_prompts.catalogue import load_catalogue

    catalogue = load_catalogue()
    plan = plan_build(catalogue, {}, set(), {})
    assert [job.prompt_id for job in plan.jobs] == list(catalogue)
    assert all(job.reason == "nouveau message" for job in plan.jobs)
