"""What-if replays: the traffic model rebuilt from records, replays through rules, the CLI."""

from __future__ import annotations

import dataclasses
import json
import random
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner

from decroche.cli import main
from decroche.traffic import agents_for, plan_day
from routing_rules.compiled import CompiledRules
from routing_rules.loader import default_rules_path
from telephony.records.model import (
    AgentLeg,
    CallOutcome,
    CallRecord,
    EntryOutcome,
    IvrEvent,
    IvrEventKind,
    LegOutcome,
    ServiceEntry,
)
from telephony.simulator.scripts import AgentScript
from tests.whatif_support import (
    DAY,
    T0,
    busy_ccas_traffic,
    ccas_queue_rules,
    ccas_rules,
    ccas_traffic,
    database_with,
    rules_of,
)
from whatif.errors import UnknownQueue, WhatIfError
from whatif.parts import quiet_parts
from whatif.replay import replay, replay_pool
from whatif.run import what_if
from whatif.traffic import (
    AgentChange,
    ReplayCall,
    TrafficModel,
    traffic_from_records,
    with_direct_entries,
)


def _model_of_planned(rules: CompiledRules, calls_per_day: int, seed: int) -> TrafficModel:
    rng = random.Random(seed)
    midnight = datetime(2026, 10, 14, tzinfo=rules.tz)
    planned = plan_day(rules, midnight, calls_per_day, rng)
    agents = agents_for(rules, rng)
    calls = [
        ReplayCall(
            p.at,
            p.script.dialled,
            p.script.caller_number,
            tuple((k.digits, k.after) for k in p.script.keys),
            p.script.patience,
            p.script.talk_time,
        )
        for p in planned
    ]
    return TrafficModel(calls, [AgentChange(midnight - timedelta(days=1), a) for a in agents])


@cache
def _recorded_bernay_day() -> tuple[CallRecord, ...]:
    """A Bernay day played once on the simulated PBX: the 'recorded' traffic of several tests."""
    rules = rules_of(default_rules_path())
    return tuple(replay(_model_of_planned(rules, 50, seed=7), rules))


# --- the traffic model -----------------------------------------------------------------------


def _record(**changes: object) -> CallRecord:
    base = CallRecord(
        call_id="c1",
        started_at=T0,
        ended_at=T0 + timedelta(seconds=100),
        dialled="0232464646",
        caller_number="hash-a",
        outcome=CallOutcome.ANSWERED,
    )
    for name, value in changes.items():
        setattr(base, name, value)
    return base


def test_keys_come_from_key_and_invalid_events_in_order_timed_from_the_prompt() -> None:
    ivr = [
        IvrEvent(T0 + timedelta(seconds=1), "principal", IvrEventKind.MENU),
        IvrEvent(T0 + timedelta(seconds=3), "principal", IvrEventKind.INVALID, "9"),
        IvrEvent(T0 + timedelta(seconds=4), "principal", IvrEventKind.MENU),
        IvrEvent(T0 + timedelta(seconds=6.5), "principal", IvrEventKind.KEY, "2"),
        IvrEvent(T0 + timedelta(seconds=8), "droit", IvrEventKind.MENU),
        IvrEvent(T0 + timedelta(seconds=9), "droit", IvrEventKind.KEY, "1"),
    ]
    model = traffic_from_records([_record(ivr=ivr, outcome=CallOutcome.IVR_HANGUP)])
    (call,) = model.calls
    assert call.keys == (("9", 2.0), ("2", 2.5), ("1", 1.0))
    assert call.patience == pytest.approx(100.0)  # hung up: patience observed exactly


def test_patience_of_an_answered_caller_is_censored_and_completed() -> None:
    entry = ServiceEntry(
        "ccas", T0 + timedelta(seconds=10), T0 + timedelta(seconds=100),
        EntryOutcome.ANSWERED, answered_at=T0 + timedelta(seconds=40), agent="PJSIP/1101",
        legs=[AgentLeg("PJSIP/1101", T0 + timedelta(seconds=12), T0 + timedelta(seconds=100),
                       LegOutcome.ANSWERED, answered_at=T0 + timedelta(seconds=40))],
    )  # fmt: skip
    abandoned = _record(
        call_id="c2",
        outcome=CallOutcome.ABANDONED,
        entries=[ServiceEntry("ccas", T0, T0 + timedelta(seconds=60), EntryOutcome.ABANDONED)],
    )
    model = traffic_from_records([_record(entries=[entry]), abandoned])
    assert model.patience_mean_s["ccas"] == pytest.approx((30.0 + 60.0) / 1)
    answered = next(c for c in model.calls if c.caller_number == model.calls[0].caller_number)
    assert answered.patience > 40.0  # at least what the caller did wait
    assert answered.talk_time == pytest.approx(60.0)
    (agent,) = model.agent_changes
    assert agent.script.ring_time == pytest.approx(28.0)


def test_unanswered_legs_use_longer_answers_of_that_agent_or_do_not_answer() -> None:
    def leg(endpoint: str, seconds: float, outcome: LegOutcome, at: float) -> AgentLeg:
        start = T0 + timedelta(seconds=at)
        end = start + timedelta(seconds=seconds)
        answered = end if outcome is LegOutcome.ANSWERED else None
        return AgentLeg(endpoint, start, end, outcome, answered_at=answered)

    entry = ServiceEntry(
        "ccas", T0, T0 + timedelta(seconds=900), EntryOutcome.OVERFLOW_TIMEOUT,
        legs=[leg("PJSIP/1", 28, LegOutcome.ANSWERED, 0), leg("PJSIP/1", 25, LegOutcome.NO_ANSWER,
              300), leg("PJSIP/2", 25, LegOutcome.NO_ANSWER, 0),
              leg("PJSIP/3", 0, LegOutcome.UNREACHABLE, 0)],
    )  # fmt: skip
    model = traffic_from_records([_record(entries=[entry])])
    scripts = {(c.script.endpoint, c.at > T0 + timedelta(seconds=100)): c.script
               for c in model.agent_changes}  # fmt: skip
    assert scripts[("PJSIP/1", True)].ring_time == pytest.approx(28.0)
    assert scripts[("PJSIP/2", False)].response == "no_answer"
    assert scripts[("PJSIP/3", False)].registered is False


def test_direct_callers_need_services_of_the_rules() -> None:
    rules = rules_of(default_rules_path())
    with pytest.raises(UnknownQueue, match="q-inconnue"):
        with_direct_entries(rules, ["ccas", "q-inconnue"])
    routed = with_direct_entries(rules, ["ccas"])
    assert routed.entry[0].numbers == frozenset({"9999000"})


# --- quiet parts ----------------------------------------------------------------------------


def _call(at: datetime, patience: float = 60.0, talk: float = 60.0) -> ReplayCall:
    return ReplayCall(at, "0232464646", "0600000001", (("1", 2.0),), patience, talk)


def test_parts_are_cut_only_where_nobody_can_still_be_on_the_line() -> None:
    evening = T0 + timedelta(hours=10)
    calls = [
        _call(T0),
        _call(T0 + timedelta(minutes=10)),  # 10 min later: the first call may still run
        _call(evening, patience=3000.0),  # a caller ready to wait 50 min...
        _call(evening + timedelta(minutes=59)),  # ...so this one is in the same part
        _call(evening + timedelta(hours=12)),
    ]
    parts = quiet_parts(TrafficModel(calls, []))
    assert [[c.at for c in p.calls] for p in parts] == [
        [calls[0].at, calls[1].at],
        [calls[2].at, calls[3].at],
        [calls[4].at],
    ]
    assert quiet_parts(TrafficModel(calls[:2], [])) == [TrafficModel(calls[:2], [])]


def test_each_part_starts_with_the_phones_as_they_were_then() -> None:
    def change(at: datetime, ring: float, endpoint: str = "PJSIP/1101") -> AgentChange:
        return AgentChange(at, AgentScript(endpoint=endpoint, ring_time=ring))

    day2 = T0 + timedelta(days=1)
    changes = [
        change(T0 - timedelta(days=3650), 4.0),
        change(T0 - timedelta(days=3650), 9.0, "PJSIP/1102"),
        change(T0 + timedelta(hours=2), 6.0),
        change(day2 + timedelta(hours=1), 8.0),
    ]
    first, second = quiet_parts(TrafficModel([_call(T0), _call(day2)], changes))
    assert [(c.script.endpoint, c.script.ring_time) for c in first.agent_changes] == [
        ("PJSIP/1101", 4.0),
        ("PJSIP/1102", 9.0),
        ("PJSIP/1101", 6.0),  # changes during the night belong to the part before
    ]
    assert [(c.script.endpoint, c.script.ring_time) for c in second.agent_changes] == [
        ("PJSIP/1101", 6.0),
        ("PJSIP/1102", 9.0),
        ("PJSIP/1101", 8.0),
    ]


def _outcomes(records: list[CallRecord]) -> list[tuple[object, ...]]:
    return [
        (r.started_at, r.call_id, r.outcome, tuple((e.service_id, e.outcome) for e in r.entries))
        for r in records
    ]


def test_in_process_rest_gives_the_records_http_gives() -> None:
    rules = rules_of(default_rules_path())
    model = _model_of_planned(rules, 40, seed=5)
    over_http = replay(model, rules, over_http=True)
    in_process = replay(model, rules)

    def story(r: CallRecord) -> tuple[object, ...]:
        legs = tuple((e.service_id, e.outcome, e.wait_seconds,
                      tuple((leg.endpoint, leg.outcome, leg.ring_seconds) for leg in e.legs))
                     for e in r.entries)  # fmt: skip
        return (r.call_id, r.started_at, r.ended_at, r.outcome, legs, len(r.ivr))

    assert len(in_process) == len(model.calls)
    assert [story(r) for r in in_process] == [story(r) for r in over_http]


def test_replaying_in_worker_processes_gives_what_one_process_gives() -> None:
    rules = rules_of(default_rules_path())
    day1 = _model_of_planned(rules, 25, seed=3)
    day2 = _model_of_planned(rules, 25, seed=4)
    shifted = [dataclasses.replace(c, at=c.at + timedelta(days=1)) for c in day2.calls]
    model = TrafficModel(day1.calls + shifted, day1.agent_changes)
    assert len(quiet_parts(model)) >= 2
    here = replay(model, rules)
    seen: list[tuple[int, int]] = []
    with replay_pool(2) as pool:
        assert pool is not None
        there = replay(model, rules, lambda done, total: seen.append((done, total)), pool=pool)
    assert len(here) == len(model.calls)
    assert _outcomes(there) == _outcomes(here)
    assert seen[-1] == (len(model.calls), len(model.calls))


# --- replays ---------------------------------------------------------------------------------


def test_replaying_unchanged_rules_stays_close_to_the_records() -> None:
    recorded = list(_recorded_bernay_day())
    rules = rules_of(default_rules_path())
    result = what_if(recorded, rules, rules, DAY, DAY)
    assert result.recorded.total.offered > 30
    # Stated tolerance: same calls offered to the same services; answered / abandoned /
    # overflowed within 5 % of the calls offered (times in the IVR differ by fractions of a
    # second, and completed patience is a draw).
    tolerance = max(1, round(0.05 * result.recorded.total.offered))
    assert result.current.total.offered == result.recorded.total.offered
    for key in ("answered", "abandoned", "overflowed"):
        assert abs(result.gap["total"][key]) <= tolerance, (key, result.gap["total"])
    for name, counts in result.recorded.services.items():
        assert result.current.services[name].offered == counts.offered, name
    # Same rules twice: no difference at all beyond the same tolerance.
    assert abs(result.difference["total"]["answered"]) <= tolerance


def test_fewer_rings_than_the_agents_need_overflow_every_ccas_call(tmp_path: Path) -> None:
    # CCAS agents pick up after 28 s. With 6 rings (30 s) they answer every call; the new rules
    # ring 5 times (25 s): every CCAS call overflows to the general desk instead.
    current = rules_of(ccas_rules(tmp_path, 6))
    new = rules_of(ccas_rules(tmp_path, 5))
    n = 6
    recorded = replay(ccas_traffic(current, n), current)
    assert [r.entries[0].outcome for r in recorded] == [EntryOutcome.ANSWERED] * n
    result = what_if(recorded, current, new, DAY, DAY)
    assert result.current.services["ccas"].answered == n
    assert result.new.services["ccas"].answered == 0
    assert result.new.services["ccas"].overflowed == n
    assert result.difference["services"]["ccas"]["answered"] == -n
    assert result.new.services["accueil_general"].offered == n
    assert "accueil_general" not in result.current.services
    assert result.gap["total"]["answered"] == 0


def test_fewer_rings_than_any_answer_needed_change_nothing_and_say_why(tmp_path: Path) -> None:
    # CCAS agents pick up after 8 s: 5 rings (25 s) or 3 rings (15 s), every call is answered
    # the same. The comparison does not just show zeros: it says why.
    current = rules_of(ccas_rules(tmp_path, 5))
    new = rules_of(ccas_rules(tmp_path, 3))
    recorded = replay(ccas_traffic(current, 4, ring_s=8.0), current)
    result = what_if(recorded, current, new, DAY, DAY)
    assert result.difference["services"]["ccas"]["answered"] == 0
    assert result.difference["services"]["ccas"]["service_level"] == 0
    longest = max(
        (e.answered_at - e.ringing_at).total_seconds()
        for r in recorded
        for e in r.entries
        if e.service_id == "ccas" and e.answered_at and e.ringing_at
    )
    assert 8.0 <= longest < 15.0
    assert result.notes == (
        f"{current.services['ccas'].name} : sonnerie 25\u00a0s (5 sonneries) → 15\u00a0s "
        "(3 sonneries) : dans le rejeu des règles actuelles, chacun de ses 4 appels décrochés "
        f"l'a été après {f'{longest:.1f}'.replace('.', ',')}\u00a0s de sonnerie au plus : la "
        "nouvelle limite n'en aurait coupé aucun.",
    )
    assert result.to_json()["notes"] == list(result.notes)
    # More rings for calls that never rang to the limit: nothing to gain, said so.
    longer = rules_of(ccas_rules(tmp_path, 7))
    more = what_if(recorded, current, longer, DAY, DAY)
    assert len(more.notes) == 1 and "sonner plus longtemps ne change rien" in more.notes[0]
    # A change the figures show needs no note; the same rules, none either.
    assert what_if(recorded, current, current, DAY, DAY).notes == ()


def test_the_simulation_page_says_why_rules_changed_nothing(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from reports.web.app import templates
    from reports.whatif_view import comparison_view

    current = rules_of(ccas_rules(tmp_path, 5))
    new = rules_of(ccas_rules(tmp_path, 3))
    recorded = replay(ccas_traffic(current, 2, ring_s=8.0), current)
    document = what_if(recorded, current, new, DAY, DAY).to_json()
    # Read back from disk as the page does: the notes travel in the JSON.
    view = comparison_view(json.loads(json.dumps(document)), {"ccas": "CCAS"})
    job = SimpleNamespace(
        id="20261014-090000-000000",
        state="done",
        state_fr="terminée",
        error=None,
        request=SimpleNamespace(start=DAY, end=DAY, at=T0, by="informatique", rules_name="r.yaml"),
    )
    env = templates()
    env.filters["local"] = lambda moment, fmt="%d/%m/%Y %H:%M": moment.strftime(fmt)
    html = env.get_template("whatif_job.html").render(
        job=job, view=view, nav=[], session=None, town="Bernay", current="whatif"
    )
    assert "Aucun service ne change." in html
    notes = html.split("data-notes>")[1].split("</section>")[0]
    assert "Règles changées sans effet sur ces appels" in notes
    assert "→ 15\u00a0s (3 sonneries)" in notes and "chacun de ses 2 appels décrochés" in notes


def _cli_table(tmp_path: Path, rings: tuple[int, int], calls: int, ring_s: float = 28.0) -> str:
    """``decroche whatif``'s table: CCAS calls recorded with ``rings[0]`` rings (its agents
    picking up after ``ring_s``), replayed with ``rings[1]``."""
    current, new = ccas_rules(tmp_path, rings[0]), ccas_rules(tmp_path, rings[1])
    recorded = replay(ccas_traffic(rules_of(current), calls, ring_s=ring_s), rules_of(current))
    url = database_with(recorded, tmp_path)
    result = CliRunner().invoke(
        main,
        ["whatif", "--rules", str(new), "--current", str(current), "--from", "2026-10-14",
         "--to", "2026-10-14", "--db", url],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.stdout


def test_cli_says_why_rules_changed_nothing(tmp_path: Path) -> None:
    out = _cli_table(tmp_path, (5, 3), 2, ring_s=8.0)
    tail = out.split("Règles changées sans effet sur ces appels :")[1]
    assert "sonnerie 25\u00a0s (5 sonneries) → 15\u00a0s (3 sonneries)" in tail
    assert "chacun de ses 2 appels décrochés" in tail


def test_transfer_legs_stay_linked_in_the_replay(tmp_path: Path) -> None:
    current = rules_of(ccas_rules(tmp_path, 6))
    first, second, third = replay(ccas_traffic(current, 3), current)
    # The second CCAS call, as if the agent of the first had transferred the caller to the CCAS.
    leg = dataclasses.replace(second, call_id="leg", caller_number=first.caller_number,
                              transfer_of=first.call_id)  # fmt: skip
    result = what_if([first, leg, third], current, current, DAY, DAY)
    assert result.recorded.total.offered == 2  # the caller of the transfer counted once
    assert result.recorded.services["ccas"].offered == 3
    assert result.current.total.offered == 2
    assert result.current.services["ccas"].offered == 3
    assert result.gap["total"]["offered"] == 0


def test_period_before_start_or_without_calls_is_refused() -> None:
    rules = rules_of(default_rules_path())
    with pytest.raises(WhatIfError, match="précède le début"):
        what_if([], rules, rules, DAY, DAY - timedelta(days=1))
    recorded = list(_recorded_bernay_day())
    with pytest.raises(WhatIfError, match="aucun appel enregistré du 15/10/2026 au 16/10/2026"):
        what_if(recorded, rules, rules, DAY + timedelta(days=1), DAY + timedelta(days=2))


# --- the command -----------------------------------------------------------------------------


def test_cli_json_is_one_object_with_every_part(tmp_path: Path) -> None:
    url = database_with(list(_recorded_bernay_day()), tmp_path)
    rules = str(default_rules_path())
    result = CliRunner().invoke(
        main,
        ["whatif", "--rules", rules, "--current", rules, "--from", "2026-10-14",
         "--to", "2026-10-14", "--db", url, "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert set(document) >= {"from", "to", "current", "new", "recorded", "gap", "difference"}
    assert document["from"] == "2026-10-14"
    assert document["recorded"]["total"]["offered"] == document["current"]["total"]["offered"]
    assert "ccas" in document["difference"]["services"]


def test_cli_table_is_french_side_by_side(tmp_path: Path) -> None:
    out = _cli_table(tmp_path, (6, 5), 3)
    assert "Enregistré" in out and "Règles actuelles" in out and "Nouvelles" in out
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("CCAS "))
    assert "Appels reçus hors horaires" in lines[at]
    assert lines[at].split()[-4:] == ["0", "0", "0", "+0"]
    offered = lines[at + 1]
    assert "Appels présentés" in offered
    assert offered.split()[-4:] == ["3", "3", "3", "+0"]  # the same three calls
    answered = lines[at + 2]
    assert "Appels décrochés" in answered
    assert answered.split()[-4:] == ["3", "3", "0", "-3"]


def test_cli_from_a_queue_log_sends_callers_to_their_queue(tmp_path: Path) -> None:
    from telephony.records.queue_log_export import queue_log_lines

    current, new = ccas_rules(tmp_path, 6), ccas_rules(tmp_path, 5)
    recorded = replay(ccas_traffic(rules_of(current), 3), rules_of(current))
    log = tmp_path / "queue_log"
    log.write_text("\n".join(queue_log_lines(recorded)) + "\n", encoding="utf-8")
    text = log.read_text(encoding="utf-8").replace("|ccas|", "|q-ccas|")
    log.write_text(text, encoding="utf-8")
    args = ["--rules", str(new), "--current", str(current), "--from", "2026-10-14",
            "--to", "2026-10-14", "--queue-log", str(log), "--json"]  # fmt: skip
    refused = CliRunner().invoke(main, ["whatif", *args])
    assert refused.exit_code != 0
    assert "q-ccas" in refused.output and "--queue-map" in refused.output
    result = CliRunner().invoke(main, ["whatif", *args, "--queue-map", "q-ccas=ccas"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["recorded"]["services"]["ccas"]["answered"] == 3
    assert document["current"]["services"]["ccas"]["answered"] == 3
    assert document["new"]["services"]["ccas"]["answered"] == 0


def test_a_ccas_queue_is_replayed_with_the_current_rules_and_with_the_new(tmp_path: Path) -> None:
    # Issue 16: callers who find the three CCAS agents busy overflow to the general desk at
    # once without a queue; with one (60 s at most) they wait for the CCAS agent freed first.
    plain = rules_of(default_rules_path())
    queued = rules_of(ccas_queue_rules(tmp_path))
    n = 9
    recorded = replay(busy_ccas_traffic(plain, n), plain)
    first_ccas = [r.entries[0] for r in recorded]
    # The 4th to 6th callers find the three agents busy (the first three talk 100 s).
    assert [e.outcome is EntryOutcome.ANSWERED for e in first_ccas] == [1, 1, 1, 0, 0, 0, 1, 1, 1]
    assert all(e.queue_started_at is None for e in first_ccas)

    with_queue = what_if(recorded, plain, queued, DAY, DAY, workers=1)
    ccas_now, ccas_new = with_queue.current.services["ccas"], with_queue.new.services["ccas"]
    assert (ccas_now.answered, ccas_now.overflowed) == (6, 3)
    # They wait for the agent freed first (about 40 s): more are answered by the CCAS, fewer
    # overflow (a replayed caller's patience is a draw: some give up in the queue).
    assert ccas_new.answered > ccas_now.answered
    assert ccas_new.overflowed < ccas_now.overflowed

    # The other way round: the queue in the rules in force is replayed as such (the recorded
    # calls were played with it), and the new rules without it overflow again.
    recorded = replay(busy_ccas_traffic(queued, n), queued)
    waited = [r.entries[0] for r in recorded if r.entries[0].queue_started_at is not None]
    assert waited and all(e.queue_ended_at is not None for e in waited)
    without = what_if(recorded, queued, plain, DAY, DAY, workers=1)
    recorded_ccas = without.recorded.services["ccas"]
    assert recorded_ccas.answered > 6
    assert abs(without.current.services["ccas"].answered - recorded_ccas.answered) <= 1
    assert without.new.services["ccas"].answered < recorded_ccas.answered
    assert without.new.services["ccas"].overflowed > without.current.services["ccas"].overflowed
