"""Asterisk queue_log import: mapping of events, malformed lines, idempotence, CLI."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from telephony.records.model import CallOutcome, EntryOutcome, LegOutcome
from telephony.records.pseudonym import Pseudonymiser
from telephony.records.queue_log import QueueLogParser, iter_queue_log, parse_queue_log
from telephony.records.store import RecordStore
from telephony.records.testing import sample_record, temporary_database
from tests.conftest import BACKENDS, pg_url

SAMPLE = """\
1700000000|1700000000.1|NONE|NONE|DID|0232000000
1700000000|1700000000.1|etat-civil|NONE|ENTERQUEUE||0612345678|1
1700000010|1700000000.1|etat-civil|PJSIP/1042|RINGNOANSWER|10000
1700000025|1700000000.1|etat-civil|NONE|EXITWITHTIMEOUT|1|1|25
1700000025|1700000000.1|accueil|NONE|ENTERQUEUE||0612345678|1
1700000033|1700000000.1|accueil|PJSIP/1001|CONNECT|8|1700000025.5|6
1700000100|1700000000.1|accueil|PJSIP/1001|COMPLETECALLER|8|67|1
1700000200|NONE|NONE|PJSIP/1001|AGENTLOGIN|PJSIP/1001
1700000300|1700000300.2|accueil|NONE|ENTERQUEUE||0699999999|1
1700000303|1700000300.2|accueil|NONE|ABANDON|1|1|3
this line is garbage
1700000400|1700000400.3|accueil|NONE|ENTERQUEUE||anonymous|1
1700000460|1700000400.3|accueil|NONE|EXITWITHKEY|1|1|1|60
1700000500|1700000500.4|accueil|NONE|ENTERQUEUE||0611111111|1
1700000512|1700000500.4|accueil|PJSIP/1002|CONNECT|twelve|1700000500.9|2
1700000512|1700000500.4|accueil|PJSIP/1002|CONNECT|12|1700000500.9|2
1700000600|1700000500.4|accueil|PJSIP/1002|BLINDTRANSFER|2301|from-internal|12|88|1
notanepoch|1700000600.5|accueil|NONE|ENTERQUEUE||0600000000|1
1700000700|1700000700.6|accueil|NONE|EXITEMPTY|1|1|4
1700000800|1700000800.7|urbanisme|NONE|ENTERQUEUE||0622222222|1
"""


def by_id(records):
    return {r.call_id: r for r in records}


def test_events_become_calls_entries_and_legs():
    records, report = parse_queue_log(SAMPLE.splitlines())
    calls = by_id(records)
    assert set(calls) == {
        "1700000000.1",
        "1700000300.2",
        "1700000400.3",
        "1700000500.4",
        "1700000700.6",
        "1700000800.7",
    }
    overflow = calls["1700000000.1"]
    assert overflow.source == "queue_log"
    assert overflow.dialled == "0232000000"
    assert overflow.caller_number == "0612345678"
    assert overflow.outcome is CallOutcome.ANSWERED
    first, second = overflow.entries
    assert (first.service_id, first.outcome, first.overflow_to) == (
        "etat-civil",
        EntryOutcome.OVERFLOW_TIMEOUT,
        "accueil",
    )
    assert first.wait_seconds == 25
    assert [(leg.endpoint, leg.outcome, leg.ring_seconds) for leg in first.legs] == [
        ("PJSIP/1042", LegOutcome.NO_ANSWER, 10.0)
    ]
    assert second.outcome is EntryOutcome.ANSWERED
    assert second.agent == "PJSIP/1001"
    assert second.wait_seconds == 8  # Asterisk's holdtime
    assert second.legs[0].ring_seconds == 6
    assert second.legs[0].channel_id == "1700000025.5"
    assert overflow.ended_at == datetime.fromtimestamp(1700000100, UTC)

    assert calls["1700000300.2"].outcome is CallOutcome.ABANDONED
    assert calls["1700000300.2"].entries[0].wait_seconds == 3
    key = calls["1700000400.3"].entries[0]
    assert (key.outcome, key.overflow_to) == (EntryOutcome.MESSAGE, "message:key-1")

    transferred = calls["1700000500.4"]
    assert transferred.entries[0].outcome is EntryOutcome.ANSWERED
    assert [(t.destination, t.by_agent) for t in transferred.transfers] == [
        ("2301@from-internal", "PJSIP/1002")
    ]
    # EXITEMPTY without its ENTERQUEUE (file rotated mid-call): rebuilt from the wait time.
    rebuilt = calls["1700000700.6"].entries[0]
    assert rebuilt.outcome is EntryOutcome.OVERFLOW_NOBODY
    assert rebuilt.entered_at == datetime.fromtimestamp(1700000696, UTC)
    assert report.rebuilt_entries == 1
    # Still waiting when the file ends: kept, as interrupted.
    assert calls["1700000800.7"].outcome is CallOutcome.INTERRUPTED
    assert report.unfinished_calls == 1
    assert report.ignored_events["AGENTLOGIN"] == 1


def test_malformed_lines_are_skipped_with_their_numbers():
    _records, report = parse_queue_log(SAMPLE.splitlines())
    assert report.skipped == 3
    assert [(m.line, m.reason.split(" : ")[0]) for m in report.malformed] == [
        (11, "1 champ, 5 au moins attendus"),
        (15, "CONNECT"),
        (18, "horodatage illisible"),
    ]
    assert report.malformed[1].reason == "CONNECT : holdtime n'est pas un nombre : 'twelve'"
    assert report.lines == len(SAMPLE.splitlines())


def test_streaming_hands_out_quiet_calls_before_the_end():
    lines = [
        "1700000000|a|q|NONE|ENTERQUEUE||0600000001|1",
        "1700000003|a|q|NONE|ABANDON|1|1|3",
        "1700009000|b|q|NONE|ENTERQUEUE||0600000002|1",
    ]
    parser = QueueLogParser(idle_close_s=3600)
    out = []
    for line in lines:
        out.extend(r.call_id for r in parser.feed(line))
    assert out == ["a"]  # quiet for more than an hour, before the input ended
    assert [r.call_id for r in parser.finish()] == ["b"]
    assert [r.call_id for r in iter_queue_log(lines)] == ["a", "b"]


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    with temporary_database(request.param, tmp_path, pg_url()) as database:
        yield RecordStore(database, Pseudonymiser(b"0123456789abcdef-secret"))


def test_importing_twice_does_not_duplicate(store):
    first = store.import_records(iter_queue_log(SAMPLE.splitlines()))
    assert (first.inserted, first.already_present) == (6, 0)
    second = store.import_records(iter_queue_log(SAMPLE.splitlines()))
    assert (second.inserted, second.already_present) == (0, 6)
    assert store.count_calls() == 6
    loaded = store.load_call("1700000000.1")
    assert loaded is not None
    assert loaded.source == "queue_log"
    assert len(loaded.entries) == 2
    assert loaded.caller_number == Pseudonymiser(b"0123456789abcdef-secret").pseudonym("0612345678")


def hostile_lines() -> list[bytes]:
    """SAMPLE as bytes, with lines PostgreSQL used to refuse, aborting the whole import."""
    lines = [line.encode("utf-8") + b"\n" for line in SAMPLE.splitlines()]
    return [
        *lines[:3],
        b"1700000012|1700000000.1|etat-civil|PJSIP/1043|RINGNOANSWER|2000\x00|x\n",  # 4
        b"1700000900|" + b"9" * 81 + b"|accueil|NONE|ENTERQUEUE||0633333333|1\n",  # 5
        b"1700000901|1700000901.8|" + b"q" * 65 + b"|NONE|ENTERQUEUE||0633333334|1\n",  # 6
        b"1700000902|1700000902.9|accueil|" + b"a" * 81 + b"|CONNECT|1|x|1\n",  # 7
        *lines[3:],
    ]


def test_a_line_the_database_could_not_hold_is_skipped_with_its_number(store):
    parser = QueueLogParser()
    result = store.import_records(iter_queue_log(hostile_lines(), parser))
    # The same six calls as SAMPLE alone, on SQLite as on PostgreSQL: nothing aborted.
    assert (result.inserted, result.rejected) == (6, ())
    assert store.count_calls() == 6
    assert [(m.line, m.reason) for m in parser.report.malformed[:4]] == [
        (4, "caractère de contrôle NUL dans la ligne"),
        (5, "identifiant d'appel de 81 caractères (80 au plus)"),
        (6, "nom de file de 65 caractères (64 au plus)"),
        (7, "nom d'agent de 81 caractères (80 au plus)"),
    ]
    assert parser.report.skipped == 7
    assert [m.line for m in parser.report.malformed[4:]] == [15, 19, 22]


def test_a_call_the_database_refuses_is_left_out_and_the_rest_imported(store):
    naive = sample_record("naive", start=datetime(2025, 1, 1, 9, 0))
    records = [sample_record("good.1"), naive, sample_record("good.2")]
    result = store.import_records(records)
    assert result.inserted == 2
    assert [call_id for call_id, _ in result.rejected] == ["naive"]
    assert "naive datetime" in result.rejected[0][1]
    assert store.count_calls() == 2


LATIN_1 = (
    "1700009000|1700009000.1|état_civil|NONE|ENTERQUEUE||0612345678|1\n"
    "1700009005|1700009000.1|état_civil|NONE|ABANDON|1|1|5\n"
)
UTF_8 = "1700000100|1700000100.2|élections|NONE|ENTERQUEUE||0612345679|1\n"


def test_a_latin_1_queue_log_keeps_its_accents_and_says_so():
    raw = (LATIN_1.encode("latin-1") + UTF_8.encode("utf-8")).splitlines(keepends=True)
    records, report = parse_queue_log(raw)
    assert sorted(e.service_id for r in records for e in r.entries) == ["élections", "état_civil"]
    assert (report.recoded_lines, report.first_recoded_line) == (2, 1)
    assert report.skipped == 0


def test_a_utf_8_queue_log_with_a_byte_order_mark_reads_as_is():
    raw = ("\ufeff" + LATIN_1).encode("utf-8").splitlines(keepends=True)
    records, report = parse_queue_log(raw)
    assert [e.service_id for r in records for e in r.entries] == ["état_civil"]
    assert (report.recoded_lines, report.skipped) == (0, 0)


def test_cli_import_reports_and_is_idempotent(tmp_path, monkeypatch):
    from decroche.cli import main

    monkeypatch.setenv("DECROCHE_STORAGE__PSEUDONYM_SECRET", "a-long-enough-test-secret")
    log = tmp_path / "queue_log"
    log.write_text(SAMPLE, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    first = runner.invoke(main, ["import", "queue-log", str(log), "--db", url])
    assert first.exit_code == 0, first.output
    assert "6 appels importés, 0 déjà présent." in first.output
    assert "ligne 11" in first.output
    assert "3 lignes mal formées ignorées :" in first.output
    second = runner.invoke(main, ["import", "queue-log", str(log), "--db", url])
    assert "0 appel importé, 6 déjà présents." in second.output

    status = runner.invoke(main, ["db", "status", "--db", url])
    assert "Révision 0007 ; 6 appels enregistrés." in status.output
    purged = runner.invoke(main, ["purge", "--before", "2024-01-01", "--db", url])
    assert purged.exit_code == 0, purged.output
    assert "6 appels antérieurs au 01/01/2024 supprimés ; " in purged.output
    bad = runner.invoke(main, ["purge", "--before", "janvier", "--db", url])
    assert bad.exit_code != 0
    assert "AAAA-MM-JJ" in bad.output

    latin = tmp_path / "queue_log.latin1"
    latin.write_bytes(LATIN_1.encode("latin-1"))
    third = runner.invoke(main, ["import", "queue-log", str(latin), "--db", url])
    assert third.exit_code == 0, third.output
    assert (
        "2 lignes hors UTF-8 (la première : ligne 1) lues en Windows-1252 (latin-1)" in third.output
    )
    assert "1 appel importé," in third.output


# --- waits as Asterisk measured them ----------------------------------------------------------

# A queue_log kept in a database: each line carries the time it was inserted, one second after
# Asterisk measured. The CONNECT says holdtime 24 (within 25 s) but comes 25 s after ENTERQUEUE;
# the ABANDON says waittime 4 (a short abandon) but comes 5 s after.
LATE_LINES = """\
1700000000|1700000000.1|accueil|NONE|ENTERQUEUE||0611111111|1
1700000025|1700000000.1|accueil|PJSIP/1001|CONNECT|24|1700000000.9|3
1700000090|1700000000.1|accueil|PJSIP/1001|COMPLETECALLER|24|65|1
1700000100|1700000100.2|accueil|NONE|ENTERQUEUE||0622222222|1
1700000105|1700000100.2|accueil|NONE|ABANDON|1|1|4
1700000200|1700000200.3|accueil|NONE|ENTERQUEUE||0633333333|1
1700000231|1700000200.3|accueil|NONE|EXITWITHTIMEOUT|1|1|30
"""


def test_connect_lines_later_than_their_holdtime_give_the_holdtime_s_figures():
    from analytics.frame import frame_from_records
    from analytics.indicators import compute_indicators

    records, report = parse_queue_log(LATE_LINES.splitlines())
    calls = by_id(records)
    (answered,) = calls["1700000000.1"].entries
    assert answered.wait_seconds == 24.0  # the holdtime, not 25 s of timestamps
    assert answered.answered_at == datetime.fromtimestamp(1700000024, UTC)
    (abandoned,) = calls["1700000100.2"].entries
    assert abandoned.wait_seconds == 4.0
    (overflowed,) = calls["1700000200.3"].entries
    assert overflowed.wait_seconds == 30.0
    assert report.waits_from_timestamps == 0
    day = datetime.fromtimestamp(1700000000, UTC).date()
    counts = compute_indicators(frame_from_records(records), day, day).services["accueil"]
    assert (counts.answered, counts.answered_within_target) == (1, 1)
    assert counts.wait_answered_sum_s == 24.0
    assert (counts.abandoned, counts.short_abandoned) == (1, 1)


def test_a_missing_holdtime_falls_back_on_the_timestamps_and_is_counted():
    lines = [
        "1700000000|1700000000.1|accueil|NONE|ENTERQUEUE||0611111111|1",
        "1700000025|1700000000.1|accueil|PJSIP/1001|CONNECT||1700000000.9|3",
        "1700000090|1700000000.1|accueil|PJSIP/1001|COMPLETECALLER||65|1",
        "1700000100|1700000100.2|accueil|NONE|ENTERQUEUE||0622222222|1",
        "1700000105|1700000100.2|accueil|NONE|ABANDON|1|1",
    ]
    records, report = parse_queue_log(lines)
    calls = by_id(records)
    assert calls["1700000000.1"].entries[0].wait_seconds == 25.0
    assert calls["1700000100.2"].entries[0].wait_seconds == 5.0
    assert report.waits_from_timestamps == 2
    assert report.skipped == 0
    # A holdtime that is no number is a malformed line, not a missing field.
    _, bad = parse_queue_log(
        [lines[0], "1700000025|1700000000.1|accueil|PJSIP/1001|CONNECT|vingt|x|3"]
    )
    assert bad.skipped == 1
    assert bad.waits_from_timestamps == 0
