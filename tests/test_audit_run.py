"""Audit runs against the simulated PBX serving the Bernay rules: the robot calls every path
through the dialplan entry callers use, and each is judged against the rules for the same
moment, the other moments of the coming year by simulation. Virtual time: a run of 27 calls
takes a second, every prompt and timeout lasting exactly what it should.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from audit.expect import expect
from audit.paths import audit_paths
from audit.results import RunStatus, Trigger, Verdict
from audit.run import touched_paths
from routing_rules.holder import RulesHolder
from routing_rules.loader import default_rules_path
from tests.audit_support import audit_once, failing, remove_sound, runner_for, sounds_folder
from tests.flow_support import OPEN_HOURS, running_system

pytestmark = pytest.mark.virtual_time

BERNAY = RulesHolder(default_rules_path()).current
PATHS = audit_paths(BERNAY)
# Saturday 17 October 2026, 15:00 in Paris: the mairie is closed, the état civil too.
SATURDAY_AFTERNOON = datetime(2026, 10, 17, 13, 0, tzinfo=UTC)


async def test_every_bernay_path_passes_and_no_agent_rings(tmp_path: Path) -> None:
    sounds = sounds_folder(tmp_path / "sounds")
    async with running_system(sounds=sounds) as system:
        run = await audit_once(system)
        assert run.status is RunStatus.DONE and run.sounds_checked
        assert failing(run) == {}
        assert run.ok and [r.path_id for r in run.results] == [p.id for p in PATHS]
        by_id = {r.path_id: r for r in run.results}
        # Wednesday 10:00: the CCAS would ring, its hours heard nowhere.
        ccas = by_id["standard.2.1"]
        assert ccas.expected == "service ccas" and ccas.call is not None
        assert [h.prompt for h in ccas.call.heard] == [
            "bienvenue",
            "menu_principal",
            "menu_droit_famille",
        ]
        assert ccas.call.keys_received == ("2", "1")
        # The robot heard each path as the rules play it: the no-key path hears its retries.
        silence = by_id["standard"].call
        assert silence is not None
        assert [h.prompt for h in silence.heard].count("pas_de_saisie") == 2
        for result in run.results:
            assert result.call is not None and result.call.leftovers == ()
            first = result.call.first_prompt_s
            assert first is None or first < 0.1
            # The outcome the call lived, then the year's others by simulation.
            assert sum(v.real for v in result.variants) == 1
        # Saturday mornings the CCAS's callers hear its hours, then the accueil général rings.
        saturday = [v for v in ccas.variants if v.reached == "service accueil_general"]
        assert saturday and any("samedis" in line for line in saturday[0].when)
        await system.pbx.wait_idle()
        # No agent's phone was ever rung, no call recorded.
        assert not any(e.shown for e in system.pbx.engine.endpoints.values())
        assert system.records.finished == [] and system.records.started == []


async def test_a_missing_prompt_fails_exactly_the_paths_playing_it(tmp_path: Path) -> None:
    sounds = sounds_folder(tmp_path / "sounds")
    remove_sound(sounds, "menu_droit_famille")
    async with running_system(sounds=sounds) as system:
        run = await audit_once(system)
    playing = {p.id for p in PATHS if "menu_droit_famille" in expect(BERNAY, p, OPEN_HOURS).prompts}
    assert playing == {p.id for p in PATHS if p.id.startswith("standard.2")}
    found = failing(run)
    assert set(found) == playing
    for path_id, checks in found.items():
        # Once, as the playback that failed; the year's outcomes needing it say so too.
        assert [c.split(":")[0] for c in checks] == ["lecture"], checks
        assert checks[0].startswith("lecture: « menu_droit_famille » n'a pas été joué"), path_id
        (result,) = [r for r in run.results if r.path_id == path_id]
        assert all("menu_droit_famille" in v.missing_sounds for v in result.variants if not v.real)
    assert found["standard.2"] == [
        "lecture: « menu_droit_famille » n'a pas été joué (son absent du PBX ?), 3 fois"
    ]
    assert not run.ok


async def test_a_missing_closed_message_fails_only_the_paths_that_may_play_it(
    tmp_path: Path,
) -> None:
    """Heard in no call on a Wednesday morning, the médiathèque's hours are played on other
    days: the simulated moments find the sound missing, on that path only."""
    sounds = sounds_folder(tmp_path / "sounds")
    remove_sound(sounds, "horaires_mediatheque")
    async with running_system(sounds=sounds) as system:
        run = await audit_once(system)
    found = failing(run)
    assert list(found) == ["standard.4"]
    (check,) = found["standard.4"]
    assert check.startswith("simulation: son absent du PBX : « horaires_mediatheque »")


async def test_outside_hours_the_call_lives_the_closed_path_and_the_rest_is_simulated(
    tmp_path: Path,
) -> None:
    sounds = sounds_folder(tmp_path / "sounds")
    async with running_system(at=SATURDAY_AFTERNOON, sounds=sounds) as system:
        run = await audit_once(system, wanted=["standard.2.1", "0232464317"])
    assert run.ok, failing(run)
    police, ccas = run.results
    assert police.path_id == "0232464317" and police.expected == "message police_fermee"
    assert ccas.expected == "message mairie_fermee"
    assert ccas.call is not None
    assert [h.prompt for h in ccas.call.heard][-2:] == [
        "horaires_espace_droit_famille",
        "mairie_fermee",
    ]
    lived = [v for v in ccas.variants if v.real]
    simulated = {v.reached for v in ccas.variants if not v.real}
    assert [v.reached for v in lived] == ["message mairie_fermee"]
    assert {"service ccas", "service accueil_general"} <= simulated


async def test_a_rules_change_sending_a_key_to_the_wrong_service_is_caught(
    tmp_path: Path,
) -> None:
    """The menu still says « Pour le CCAS, tapez 1 »: after the reload, key 1 of the menu of the
    espace du droit et de la famille leads to the guichet famille. The audit of the paths the
    change touched catches it."""
    rules = tmp_path / "regles.yaml"
    shutil.copyfile(default_rules_path(), rules)
    sounds = sounds_folder(tmp_path / "sounds")
    async with running_system(rules_path=rules, sounds=sounds) as system:
        holder = system.router.rules
        assert isinstance(holder, RulesHolder)
        before = holder.current
        text = rules.read_text(encoding="utf-8")
        wrong = text.replace('"1": {service: ccas}', '"1": {service: guichet_famille}')
        assert wrong != text
        rules.write_text(wrong, encoding="utf-8")
        assert holder.reload().changed
        runner = runner_for(system)
        touched = touched_paths(before, holder.current, "standard", runner.moments(before))
        assert touched == ["standard.2.1"]
        run = await runner.run(Trigger.RELOAD, wanted=touched)
        await runner.client.close()
    (result,) = run.results
    assert result.verdict is Verdict.FAILED
    # decroche follows the rules in force (the call reached the guichet famille)...
    assert result.expected == "service guichet_famille"
    assert result.call is not None and result.call.reached == "service guichet_famille"
    # ...which contradict what the menu tells callers.
    (check,) = result.failures
    assert check.code == "annonce"
    assert "touche 1 pour « le CCAS »" in check.detail and "Guichet famille" in check.detail


async def test_without_decroche_no_call_is_placed_and_the_run_says_why(tmp_path: Path) -> None:
    async with running_system() as system:
        await system.router.stop()  # decroche's application leaves Asterisk
        runner = runner_for(system)
        run = await runner.run(Trigger.NIGHTLY)
        await runner.client.close()
        assert system.pbx.engine.channels == {}
    assert run.status is RunStatus.IMPOSSIBLE and run.results == ()
    assert run.message is not None and "decroche n'est pas connecté à Asterisk" in run.message


async def test_the_surveys_prompts_are_checked_on_every_path_reaching_a_service(
    tmp_path: Path,
) -> None:
    """Played to 1 caller in 5 after the call, never to an audit call: the PBX's sounds list
    says whether they are there."""
    sounds = sounds_folder(tmp_path / "sounds")
    remove_sound(sounds, "enquete_merci")
    async with running_system(sounds=sounds) as system:
        run = await audit_once(system, wanted=["standard.2.1", "standard.4"])
    found = failing(run)
    assert set(found) == {"standard.2.1", "standard.4"}
    assert all(c == ["simulation: son absent du PBX : « enquete_merci »"] for c in found.values())
