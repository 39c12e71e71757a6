"""The revue de direction (annual review) as an auditor reads it: the cover with its date,
participants and approval; the data's coverage; each commitment against its objective and the
previous year with the decision that adopted it; twelve months per service; satisfaction and
callbacks; what changed; the internal audits; last year's actions with their status and this
review's decisions. And its PDF pages: nothing at the right edge, names and never ids."""

from __future__ import annotations

import html
import re
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from html import unescape as html_unescape
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from analytics.objectives import ObjectivesConfig
from audit.results import AuditRun, Check, PathResult, RunStatus, Trigger, Verdict
from audit.store import AuditStore, upgrade_audit_schema
from decroche.testing import indicators_of
from ivr_prompts.catalogue import load_catalogue
from reports.accounts import upgrade_web_schema
from reports.actions import ActionBook, parse_action
from reports.annual_review import QualityRecords
from reports.documents import ReportDocument, ReportInputs, ReportSettings, build_report, render_pdf
from reports.periods import month_period, year_period
from reports.reviews import ReviewBook, parse_review, parse_revised_objective
from reports.rules_history import RulesVersionBook, changes_fr, hours_fr, summarise
from routing_rules.loader import default_rules_path, load_rules
from telephony.records.model import CallOutcome, CallRecord, EntryOutcome, ServiceEntry
from telephony.records.testing import fill, temporary_database, town_calls
from tests.pdf_support import font_families, layout_text, units_alone

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "reports"
NAMES = {
    "etat_civil": "État civil",
    "ccas": "CCAS",
    "urbanisme": "Urbanisme",
    "accueil": "Accueil général",
}
GENERATED = datetime(2027, 1, 20, 9, 0, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")


def _closed_call(n: int, local: datetime, services: list[tuple[str, bool]]) -> CallRecord:
    """A call arriving at ``local`` (Paris time) that enters ``services`` in turn, each closed
    (True: sent on at once) or open (the last one answers); none: the line's closed message."""
    at = local.replace(tzinfo=PARIS).astimezone(UTC)
    entries = []
    for service, closed in services:
        if closed:
            entry = ServiceEntry(service, at, at, EntryOutcome.OVERFLOW_CLOSED, closed=True)
        else:
            entry = ServiceEntry(
                service,
                at,
                at + timedelta(seconds=90),
                EntryOutcome.ANSWERED,
                ringing_at=at,
                answered_at=at + timedelta(seconds=9),
                agent="PJSIP/1001",
            )
        entries.append(entry)
        at = entry.ended_at
    if not entries:
        outcome = CallOutcome.CLOSED
    elif entries[-1].outcome is EntryOutcome.ANSWERED:
        outcome = CallOutcome.ANSWERED
    else:
        outcome = CallOutcome.MESSAGE
    return CallRecord(
        call_id=f"ferme.{n}",
        started_at=local.replace(tzinfo=PARIS).astimezone(UTC) - timedelta(seconds=6),
        ended_at=at + timedelta(seconds=20),
        dialled="0232464646",
        caller_number=f"023201{n:04d}",
        outcome=outcome,
        entries=entries,
    )


def closed_records() -> list[CallRecord]:
    """Calls received while closed, through 2026 (winter and summer time): before opening,
    at lunch, on a Saturday, in the evening; one sent on to a service then open (closed in
    its first service only), one the line itself closed (no service entered)."""
    d = datetime
    return [
        _closed_call(1, d(2026, 4, 7, 7, 40), [("ccas", True)]),
        _closed_call(2, d(2026, 4, 7, 12, 20), [("urbanisme", True), ("accueil", False)]),
        _closed_call(3, d(2026, 4, 11, 10, 5), [("etat_civil", True)]),
        _closed_call(4, d(2026, 6, 15, 18, 30), [("ccas", True)]),
        _closed_call(5, d(2026, 6, 16, 12, 45), [("ccas", True), ("etat_civil", True)]),
        _closed_call(6, d(2026, 5, 4, 19, 10), []),
        _closed_call(7, d(2026, 3, 9, 7, 55), [("ccas", True)]),
    ]


OBJECTIVES = ObjectivesConfig.model_validate(
    {
        "default": {
            "answer_rate": {
                "target": 0.85,
                "kind": "min",
                "adopted": {
                    "by": "Conseil municipal",
                    "on": "2026-03-12",
                    "reference": "délibération 2026-045",
                },
            },
            "service_level": {"target": 0.80, "kind": "min"},
            "abandonment_rate": {"target": 0.10, "kind": "max"},
        },
        "services": {
            "ccas": {
                "answer_rate": {
                    "target": 0.90,
                    "kind": "min",
                    "adopted": {"by": "Conseil d'administration du CCAS", "on": "2026-02-03"},
                }
            }
        },
    }
)


def _run(started: datetime, verdict: Verdict) -> AuditRun:
    checks = (
        Check(
            code="destination",
            name="Destination",
            ok=verdict is Verdict.PASSED,
            detail="le service attendu",
        ),
    )
    return AuditRun(
        id=f"run-{started:%Y%m%d}",
        started_at=started,
        finished_at=started,
        trigger=Trigger.NIGHTLY,
        rules_version="sha256:abc",
        rules_source="regles.yaml",
        status=RunStatus.DONE,
        results=(
            PathResult(
                path_id="standard.2",
                label="Standard, touche 2 : CCAS",
                dialled="0232464300",
                keys=("2",),
                kind="service",
                verdict=verdict,
                expected="service:ccas",
                checks=checks,
            ),
        ),
    )


@pytest.fixture(scope="module")
def review(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    tmp = tmp_path_factory.mktemp("revue")
    calls = [
        *town_calls(date(2025, 9, 1), 120, 4, seed=3),
        *town_calls(date(2026, 3, 2), 200, 4, seed=5),
        *closed_records(),
    ]
    with temporary_database("sqlite", tmp) as database:
        fill(database, iter(calls))
        engine = database.engine
        upgrade_web_schema(engine)
        upgrade_audit_schema(engine)
        actions, reviews = ActionBook(engine), ReviewBook(engine)
        services = NAMES
        # Decided at the 2025 review, done during 2026: the follow-up.
        old = parse_action(
            {
                "title": "Renfort du CCAS le lundi matin",
                "service": "ccas",
                "indicator": "answer_rate",
                "owner": "Mme Martin",
                "due": "2026-04-30",
                "status": "planned",
                "origin": "review",
                "review_year": "2025",
            },
            services=services,
        )
        first = actions.add(old, by="qualite", now=GENERATED, today=date(2026, 1, 25))
        actions.change(
            first.id,
            replace(old, status=old.status.DONE, result="Taux de décroché du CCAS à 91 %"),
            revision=first.revision,
            by="qualite",
            now=GENERATED,
            today=date(2026, 5, 4),
        )
        late = parse_action(
            {
                "title": "Message de fermeture de l'urbanisme",
                "service": "urbanisme",
                "owner": "M. Durand",
                "due": "2026-06-30",
                "status": "in_progress",
                "origin": "audit",
            },
            services=services,
        )
        actions.add(late, by="qualite", now=GENERATED, today=date(2026, 5, 10))
        decided = parse_action(
            {
                "title": "Horaires d'été de l'état civil",
                "service": "etat_civil",
                "indicator": "service_level",
                "owner": "Direction générale",
                "due": "2027-06-01",
                "status": "planned",
                "origin": "review",
                "review_year": "2026",
            },
            services=services,
        )
        actions.add(decided, by="qualite", now=GENERATED, today=date(2027, 1, 20))
        reviews.save(
            2026,
            parse_review(
                {
                    "held_on": "2027-01-18",
                    "scope": "",
                    "participants": "M. le Maire — président\nMme Martin — responsable qualité",
                    "conclusions": "Objectifs tenus sauf au CCAS en été.",
                    "approved_by": "M. le Maire",
                    "approved_on": "2027-01-19",
                }
            ),
            revision=0,
            by="qualite",
            now=GENERATED,
        )
        reviews.add_objective(
            2026,
            parse_revised_objective(
                {
                    "service": "ccas",
                    "indicator": "answer_rate",
                    "target": "92",
                    "reason": "Renfort pérennisé",
                },
                services=services,
            ),
            by="qualite",
            now=GENERATED,
        )
        rules = load_rules(default_rules_path(), load_catalogue().keys())
        history = RulesVersionBook(engine)
        history.record(rules, trigger="startup", by=None, now=datetime(2025, 12, 1, tzinfo=UTC))
        changed = replace(
            rules,
            version="sha256:other",
            services={
                **rules.services,
                "ccas": replace(rules.services["ccas"], agents=("PJSIP/1",)),
            },
        )
        history.record(changed, trigger="reload", by=None, now=datetime(2026, 6, 2, 8, tzinfo=UTC))
        audits = AuditStore(engine)
        audits.save(_run(datetime(2026, 4, 2, 2, tzinfo=UTC), Verdict.FAILED))
        audits.save(_run(datetime(2026, 4, 9, 2, tzinfo=UTC), Verdict.PASSED))
        records = QualityRecords(actions, reviews, history, audits, lambda: rules)
        indicators = indicators_of(database, objectives=OBJECTIVES)
        inputs = ReportInputs(indicators, NAMES, ReportSettings(), records)
        steps: list[str] = []
        annual = build_report(
            inputs,
            year_period(2026),
            "annual",
            generated_at=GENERATED,
            version=2,
            progress=steps.append,
        )
        running = build_report(
            inputs,
            year_period(2026),
            "annual",
            generated_at=datetime(2026, 11, 3, 9, tzinfo=UTC),
        )
        monthly = build_report(inputs, month_period("2026-05"), "monthly", generated_at=GENERATED)
        yield {
            "annual": annual,
            "running": running,
            "monthly": monthly,
            "steps": steps,
            "rules": rules,
            "changed": changed,
            "calls": calls,
        }


def _text(markup: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", markup)))


def test_the_cover_says_date_participants_approval_reference(review) -> None:
    document: ReportDocument = review["annual"]
    text = _text(document.html)
    assert "Revue de direction de l’accueil téléphonique — 2026" in text
    assert "Revue tenue le 18/01/2027" in text
    assert "M. le Maire — président" in text and "Mme Martin — responsable qualité" in text
    assert "Approuvée par M. le Maire le 19/01/2027." in text
    assert "Référence TEL-RD-2026 — version 2" in text
    assert document.stem == "bilan-annuel-2026"


def test_an_unapproved_review_is_a_working_document(review) -> None:
    text = _text(review["running"].html)
    assert "Non approuvée : document de travail." not in text  # the 2026 review is approved
    assert "version 1" in text


def test_coverage_says_the_days_recorded_and_a_year_not_over(review) -> None:
    done = _text(review["annual"].html)
    days = {c.started_at.astimezone(PARIS).date() for c in review["calls"]}
    recorded = sorted(d for d in days if d.year == 2026)
    assert date(2026, 4, 11) in recorded  # a Saturday of calls received while closed only
    assert f"Appels enregistrés {len(recorded)} jours sur 365, du 02/03/2026 au" in done
    assert "n'est pas terminée" not in done
    running = _text(review["running"].html)
    assert "L'année n'est pas terminée : les chiffres s'arrêtent au 02/11/2026" in running


def test_each_commitment_against_objective_previous_year_and_decision(review) -> None:
    html = review["annual"].html
    text = _text(html)
    assert html.count('data-table="engagements"') == 1
    assert 'data-table="objectifs"' not in html  # no second objectives table
    assert "Conseil municipal, 12/03/2026 (délibération 2026-045)" in text
    assert "Conseil d'administration du CCAS, 03/02/2026" in text
    assert "décision non renseignée" in text  # service level: no decision configured
    assert "tous les services sauf CCAS" in text
    assert "Résultats 2026 au regard des objectifs et de 2025" in text
    results = html.split('data-table="resultats"')[1].split("</table>")[0]
    assert "≥\u00a090,0\u00a0%" in results  # the CCAS's own objective
    assert results.count("✓ atteint") + results.count("✗ non atteint") >= 12
    assert "2025" in results and "—" not in results.split("Tous services")[1].split("</tr>")[0]


def test_twelve_months_per_service_each_indicator_with_its_objective(review) -> None:
    html = review["annual"].html
    for name in ("Tous services", "CCAS", "État civil", "Urbanisme", "Accueil général"):
        assert 'data-table="mois-' in html and f"<h3>{name}</h3>" in html
    months = html.split("3. Mois par mois, par service")[1].split("<h2>")[0]
    assert months.count("<svg") == 5 * 3  # three indicators with an objective, five groups
    assert "ligne pointillée : objectif ≥\u00a090,0\u00a0%" in html  # the CCAS chart's own line
    months = html.split('data-table="mois-ccas"')[1].split("</table>")[0]
    for month in ("janv.", "févr.", "mars", "juil.", "août", "sept.", "déc."):
        assert f">{month}</th>" in months
    assert "nove." not in html and "déce." not in html


def _closed_by_hour(calls: list[CallRecord], year: int) -> dict[str, Counter[int]]:
    """Independently of the indicators: per service, its entries while closed by local hour
    of entry; for « Tous services », the calls none of whose entries was in opening hours (or
    that the line's closed message ended), by local hour of arrival."""
    found: dict[str, Counter[int]] = {}
    for call in calls:
        for entry in call.entries:
            local = entry.entered_at.astimezone(PARIS)
            if entry.closed and local.year == year:
                found.setdefault(NAMES[entry.service_id], Counter())[local.hour] += 1
        arrived = call.started_at.astimezone(PARIS)
        bare_closed = not call.entries and call.outcome is CallOutcome.CLOSED
        all_closed = bool(call.entries) and all(e.closed for e in call.entries)
        if arrived.year == year and (all_closed or bare_closed):
            found.setdefault("Tous services", Counter())[arrived.hour] += 1
    return found


def test_calls_received_while_closed_by_hour_per_service(review) -> None:
    html = review["annual"].html
    section = html.split("4. Appels reçus hors horaires, par heure de la journée")[1]
    section = section.split("<h2>")[0]
    expected = _closed_by_hour(review["calls"], 2026)
    assert expected["Tous services"] == Counter({7: 2, 10: 1, 12: 1, 18: 1, 19: 1})
    assert expected["CCAS"] == Counter({7: 2, 12: 1, 18: 1})  # 18:30 in summer time
    assert "Urbanisme" in expected and "Accueil général" not in expected
    # The table: a row per service with closed calls, by name, every service first; a column
    # per hour from the first to the last with closed calls.
    # 13 hours: two tables of 7 and 6 columns (a month table's width at most).
    rows: dict[str, list[str]] = {}
    head = ["Service", "Appels reçus hors horaires"]
    for part in ("1", "2"):
        table = section.split(f'data-table="hors-horaires-{part}"')[1].split("</table>")[0]
        head += re.findall(r'<th scope="col">([^<]*)</th>', table)[2:]
        for row in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], re.S):
            cells = [html_unescape(c) for c in re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", row)]
            rows[cells[0]] = rows.get(cells[0], cells[:2]) + cells[2:]
    assert head == ["Service", "Appels reçus hors horaires", *(f"{h}\u00a0h" for h in range(7, 20))]
    assert "(1/2 : de 7\u00a0h à 13\u00a0h)" in section
    assert list(rows) == ["Tous services", "CCAS", "État civil", "Urbanisme"]
    for name, hours in expected.items():
        shown = [str(hours[h]) if hours[h] else "—" for h in range(7, 20)]
        assert rows[name] == [name, str(sum(hours.values())), *shown], name
    # The summary and the chart, its table the text alternative.
    text = _text(section)
    assert (
        "Tous services : 6 appels reçus hors horaires sur la période (chaque appel une fois)"
        in text
    )
    assert "le plus souvent à 7 h (2), 10 h (1) et 12 h (1)." in text  # ties: the earliest
    chart = section.split("<svg")[1].split("</svg>")[0]
    assert "Valeurs dans le tableau qui suit" in chart
    assert "CCAS 7\u00a0h : 2" in html_unescape(chart)
    for raw in ("ccas", "etat_civil", "urbanisme"):
        assert f">{raw}<" not in section


def test_satisfaction_callbacks_changes_audits(review) -> None:
    text = _text(review["annual"].html)
    assert "Méthode : enquête au clavier après l'appel" in text
    assert "rappels dus" in text or "Aucun rappel dû" in text
    assert re.search(r"CCAS[^;]* : \d postes → 1 poste", text)
    assert "02/06/2026 à 10:00" in text  # the reload, in local time
    assert "Horaires d'ouverture en vigueur" in text
    assert "2 audits des parcours du 02/04/2026 au 09/04/2026, 1 parcours vérifié ;" in text
    assert "1 audit sans défaut, 1 audit avec au moins un parcours en échec." in text
    assert "Standard, touche 2 : CCAS Destination 02/04/2026" in text


def test_the_action_plan_follows_last_review_and_records_this_one(review) -> None:
    html = review["annual"].html
    follow = _text(html.split('data-table="suivi-actions"')[1].split("</table>")[0])
    assert "Renfort du CCAS le lundi matin" in follow
    assert "faite le 04/05/2026" in follow and "Taux de décroché du CCAS à 91 %" in follow
    assert "Message de fermeture de l'urbanisme" in follow and "en cours — en retard" in follow
    assert (
        "2 actions suivies pendant l'année (dont celles de la revue 2025) : 1 close, "
        "1 encore ouverte dont 1 en retard ; 1 décidée à cette revue."
    ) in _text(html)
    decided = _text(html.split('data-table="decisions"')[1].split("</table>")[0])
    assert "Horaires d'été de l'état civil" in decided and "Direction générale" in decided
    revised = _text(html.split('data-table="objectifs-revises"')[1].split("</table>")[0])
    assert "≥ 92,0 %" in revised and "pas encore appliqué" in revised


def test_the_monthly_report_lists_open_actions(review) -> None:
    html = review["monthly"].html
    text = _text(html)
    assert "Référence TEL-BM-2026-05 — version 1" in text
    still = _text(html.split('data-table="actions-ouvertes"')[1].split("</table>")[0])
    assert "Message de fermeture de l'urbanisme" in still
    closed = _text(html.split('data-table="actions-closes"')[1].split("</table>")[0])
    assert "Renfort du CCAS le lundi matin" in closed


def test_progress_has_the_build_steps(review) -> None:
    from reports.documents import BUILD_STEPS

    assert len(review["steps"]) == BUILD_STEPS


def test_rules_changes_in_words(review) -> None:
    rules, changed = review["rules"], review["changed"]
    said = changes_fr(summarise(rules), summarise(changed))
    ccas = rules.services["ccas"]
    assert said == [f"{ccas.name} : {len(ccas.agents)} postes → 1 poste"]
    assert hours_fr(None) == "ouvert en permanence"
    said = hours_fr(ccas.schedule).replace("\u00a0", " ")
    assert said.startswith("du lundi au vendredi 8 h 30–12 h et 13 h 30–17 h 30")


@pytest.mark.pdf
@pytest.mark.pdf_images
def test_pdf_pages_fit_their_paper_and_name_things(review, tmp_path: Path) -> None:
    for key, stem in (("annual", "revue-2026"), ("monthly", "bilan-2026-05")):
        document: ReportDocument = review[key]
        pdf = tmp_path / f"{stem}.pdf"
        pdf.write_bytes(render_pdf(document))
        text = layout_text(pdf)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / f"{stem}.txt").write_text(text)
        (ARTIFACTS / pdf.name).write_bytes(pdf.read_bytes())
        assert "Ville de Bernay" in text
        # One type on every page, the header and the footer included.
        assert font_families(pdf) == {"DejaVu-Sans"}, stem
        for name in ("CCAS", "État civil", "Urbanisme", "Accueil général"):
            assert name in text, f"{stem}: {name} missing"
        assert not units_alone(text), f"{stem}: a unit wrapped away from its figure"
        body = text.split("Annexe — définitions")[0]
        raw = re.findall(r"\b[a-z]+_[a-z_]+\b|\bccas\b", body)
        assert not raw, f"{stem}: raw ids in the PDF: {sorted(set(raw))}"
        subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(tmp_path / stem)], check=True)
        pages = sorted(tmp_path.glob(f"{stem}-*.png"))
        assert len(pages) >= 2
        for page in pages:
            assert _right_margin_is_blank(page), f"{page.name}: content touches the right edge"
        for page in pages:
            page.replace(ARTIFACTS / page.name)


def _right_margin_is_blank(page: Path) -> bool:
    with Image.open(page) as image:
        gray = image.convert("L")
        width, height = gray.size
        # The right margin is 14 mm; nothing may be drawn in its outer 10 mm.
        band = gray.crop((width - round(width * 10 / 210), 0, width, height))
        return band.getextrema()[0] > 235


WIDEST_MONTH = re.compile(r'(<table data-table="mois-[^"]*" class="months">.*?</table>)', re.S)


@pytest.mark.pdf
@pytest.mark.pdf_images
def test_month_tables_keep_the_widest_figures_whole_on_the_page(review, tmp_path: Path) -> None:
    """Every month at 100,0 % (the widest rate) and 12 345 calls: each figure stays on one line
    with its unit, and the table still fits its paper."""
    document: ReportDocument = review["annual"]

    def widest(table: re.Match[str]) -> str:
        cells = re.sub(r"<td class=\"[^\"]*\">[^<]*</td>", "<td>100,0\u202f%</td>", table[1])
        return cells.replace("<td>100,0\u202f%</td>", "<td>12\u202f345</td>", 12)

    marked, tables = WIDEST_MONTH.subn(widest, document.html)
    assert tables >= 5  # every service, and every service's own table
    pdf = tmp_path / "revue-mois-larges.pdf"
    pdf.write_bytes(render_pdf(replace(document, html=marked)))
    text = layout_text(pdf, 3, 4)
    assert text.count("100,0") >= 5 * 3 * 12 / 2  # the pages read hold the months' figures
    assert not units_alone(text), units_alone(text)
    assert "100,0 %" in text.replace("\u202f", " ").replace("\u00a0", " ")
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(tmp_path / "mois")], check=True)
    pages = sorted(tmp_path.glob("mois-*.png"))
    assert pages
    for page in pages:
        assert _right_margin_is_blank(page), f"{page.name}: content touches the right edge"


def test_a_restart_with_the_same_rules_records_no_new_version(tmp_path: Path) -> None:
    rules = load_rules(default_rules_path(), load_catalogue().keys())
    with temporary_database("sqlite", tmp_path) as database:
        upgrade_web_schema(database.engine)
        book = RulesVersionBook(database.engine)
        first = datetime(2026, 1, 5, tzinfo=UTC)
        assert book.record(rules, trigger="startup", by=None, now=first)
        assert not book.record(
            rules, trigger="startup", by=None, now=datetime(2026, 2, 1, tzinfo=UTC)
        )
        versions = book.between(datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
        assert [v.in_force_from for v in versions] == [first]
        assert versions[0].services["ccas"].agents == len(rules.services["ccas"].agents)


def test_satisfaction_says_method_sample_and_results(tmp_path: Path) -> None:
    from analytics.satisfaction import scales_of
    from telephony.records.model import SurveyAnswer
    from telephony.records.testing import sample_record

    start = datetime(2026, 10, 6, 8, 0, tzinfo=UTC)
    record = replace(
        sample_record("call-r", start=start),
        survey=[
            SurveyAnswer(1, "enquete_question_accueil", start, 5),
            SurveyAnswer(2, "enquete_question_resolu", start, 1),
        ],
    )
    rules = load_rules(default_rules_path(), load_catalogue().keys())
    with temporary_database("sqlite", tmp_path) as database:
        fill(database, iter([record]))
        upgrade_web_schema(database.engine)
        indicators = indicators_of(database, scales=scales_of(rules))
        records = QualityRecords(
            ActionBook(database.engine), ReviewBook(database.engine), rules_now=lambda: rules
        )
        document = build_report(
            ReportInputs(
                indicators, {"accueil-general": "Accueil général"}, ReportSettings(), records
            ),
            year_period(2026),
            "annual",
            generated_at=GENERATED,
        )
    text = _text(document.html)
    assert "Méthode : enquête au clavier après l'appel, proposée à un appel sur 5" in text
    assert (
        "Échantillon : 1 enquête proposée, 1 enquête proposée puis décrochée, 1 enquête répondue "
        "(taux de réponse à l'enquête : 100,0 %)."
    ) in text
    table = _text(document.html.split('data-table="satisfaction"')[1].split("</table>")[0])
    assert "Satisfaction des appelants par service" in table
    assert "Tous services 1 5 100,0 % ✓ atteint (≥ 80,0 %)" in table
    assert "Accueil général 1 5 100,0 % ✓ atteint (≥ 80,0 %)" in table
    assert "Non approuvée : document de travail." in text  # no review recorded for 2026
    assert "Aucun audit" not in text and "ne sont pas disponibles" in text
