"""The *revue de direction* of the phone reception: the annual review an auditor accepts.

It follows the usual ISO 9001 §9.3 model (the Qualivilles auditor's finding WSM-3 was its
absence). Inputs: the status of the actions decided before, the changes of the year (rules,
opening hours, agents), the results against the objectives and their trend (each objective
with the decision that adopted it), the callers' satisfaction and the callbacks, the internal
audits of the phone paths. Outputs: the decisions (actions with an owner, a due date and an
indicator) and the revised objectives, as the quality lead recorded them in the web app; and
on the cover, the review's date, participants and approval, the document's reference and
version.

Pure of I/O but for the records it is handed (:class:`QualityRecords`); the figures come from
:class:`analytics.api.Indicators` alone, as for the dashboard and the monthly report.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from markupsafe import Markup

from analytics import glossary
from analytics.api import Dashboard, Indicators
from analytics.definitions import CallsReceived, Counts
from analytics.objectives import Objective, ObjectivesConfig
from audit.results import Verdict
from reports import format as fmt
from reports import svg
from reports.actions import Action, ActionPlan, Origin
from reports.periods import MONTHS_SHORT_FR, Period
from reports.quality_tables import actions_table, objectives_revised_table
from reports.quality_terms import indicator_label
from reports.review_charts import month_line
from reports.reviews import Review, RevisedObjective
from reports.rules_history import RulesVersion, changes_fr, hours_fr
from reports.tables import Cell, Column, DataTable
from reports.views import TOTAL
from routing_rules.compiled import CompiledRules
from routing_rules.messages import agreeing, counted

if TYPE_CHECKING:  # reports.audit_report builds on reports.documents, which builds on this
    from reports.audit_report import AuditHistory

# The indicators a commitment is about, in the order the review reads them.
COMMITMENTS = ("answer_rate", "service_level", "abandonment_rate", "mean_wait_answered_s")
ALL_SERVICES = "Tous services"
MET, MISSED, UNMEASURED = "✓ atteint", "✗ non atteint", "non mesurable"


class ReviewRecords(Protocol):
    """The management reviews as the quality lead recorded them (:class:`ReviewBook`)."""

    def get(self, year: int) -> Review | None: ...

    def objectives(self, year: int) -> list[RevisedObjective]: ...


class RulesHistory(Protocol):
    def between(self, start: datetime, end: datetime) -> list[RulesVersion]: ...


@dataclass(frozen=True, slots=True)
class QualityRecords:
    """What the quality lead and the service recorded beside the calls: the action plan, the
    management reviews, the rules' versions put in force, the internal audits' runs, and the
    rules in force now (their survey and opening hours). The composition root builds it."""

    actions: ActionPlan
    reviews: ReviewRecords
    rules_history: RulesHistory | None = None
    audits: AuditHistory | None = None
    rules_now: Callable[[], CompiledRules] | None = None


# --- the cover ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cover:
    held_on: str  # « le 28/01/2027 » or « date non renseignée »
    participants: tuple[str, ...]
    approval: str  # « Approuvée par … le … » or « Non approuvée : document de travail »
    approved: bool
    conclusions: str
    scope: str


DEFAULT_SCOPE = "l'accueil téléphonique de la Ville et du CCAS, tous ses services."


def cover(review: Review | None) -> Cover:
    if review is None:
        return Cover(
            "non renseignée (à saisir dans l'application, page Revues de direction)",
            (),
            "Non approuvée : document de travail.",
            False,
            "",
            DEFAULT_SCOPE,
        )
    draft = review.draft
    held = f"le {draft.held_on:%d/%m/%Y}" if draft.held_on else "non renseignée"
    if review.approved:
        assert draft.approved_on is not None
        approval = f"Approuvée par {draft.approved_by} le {draft.approved_on:%d/%m/%Y}."
    else:
        approval = "Non approuvée : document de travail."
    return Cover(
        held,
        draft.participants,
        approval,
        review.approved,
        draft.conclusions,
        draft.scope or DEFAULT_SCOPE,
    )


# --- scope and data coverage ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Coverage:
    services: list[str]
    sentence: str  # the days recorded, and whether the period is over
    complete: bool


def coverage(
    indicators: Indicators, period: Period, names: Mapping[str, str], today: date
) -> Coverage:
    last = min(period.end, today - timedelta(days=1))
    recorded: list[str] = []
    services: set[str] = set()
    if last >= period.start:
        for day, per_service in indicators.breakdown(period.start, last, "day").items():
            # A day of calls received while closed only (a Saturday) is a day recorded too.
            if CallsReceived.of(per_service.get(TOTAL, Counts())).received:
                recorded.append(day)
                services.update(s for s in per_service if s != TOTAL)
    days = (period.end - period.start).days + 1
    complete = today > period.end
    if not recorded:
        said = f"Aucun appel enregistré sur la période ({days} jours)."
    else:
        first, end = date.fromisoformat(recorded[0]), date.fromisoformat(recorded[-1])
        said = (
            f"Appels enregistrés {counted(len(recorded), 'jour')} sur {days}, "
            f"du {first:%d/%m/%Y} au {end:%d/%m/%Y}."
        )
    if not complete:
        said += (
            f" L'année n'est pas terminée : les chiffres s'arrêtent au {last:%d/%m/%Y} "
            "(ceux des jours suivants manquent)."
            if last >= period.start
            else " La période n'a pas commencé."
        )
    named = sorted((names.get(s, s) for s in services), key=glossary.reading_order)
    return Coverage(named, said, complete)


# --- commitments: objectives and the decisions that adopted them -------------------------------


def _value(indicator: str, value: float | None) -> str:
    return fmt.indicator(indicator, value)


def _decision(objective: Objective) -> str:
    adopted = getattr(objective, "adopted", None)
    return adopted.text_fr if adopted is not None else "décision non renseignée"


def commitments_table(objectives: ObjectivesConfig, names: Mapping[str, str]) -> DataTable:
    """Each objective once: the default ones, then each service's own, with its decision."""
    table = DataTable(
        "engagements",
        "Engagements et décisions qui les ont adoptés",
        [
            Column("indicator", "Indicateur"),
            Column("objective", "Objectif"),
            Column("applies", "S'applique à"),
            Column("decision", "Adopté par (date, référence)"),
        ],
    )
    overridden = {
        indicator: sorted(
            (names.get(s, s) for s, own in objectives.services.items() if indicator in own),
            key=glossary.reading_order,
        )
        for indicator in objectives.default
    }
    for indicator, objective in objectives.default.items():
        applies = "tous les services"
        if overridden.get(indicator):
            applies += " sauf " + ", ".join(overridden[indicator])
        table.rows.append(
            [
                indicator_label(indicator),
                fmt.objective(indicator, objective.target, objective.kind),
                applies,
                _decision(objective),
            ]
        )
    for service in sorted(objectives.services, key=glossary.by_name(names)):
        for indicator, objective in objectives.services[service].items():
            table.rows.append(
                [
                    indicator_label(indicator),
                    fmt.objective(indicator, objective.target, objective.kind),
                    names.get(service, service),
                    _decision(objective),
                ]
            )
    return table


def _verdict(objective: Objective | None, value: float | None) -> str:
    if objective is None:
        return "sans objectif"
    if value is None:
        return UNMEASURED
    return MET if objective.met(value) else MISSED


def results_table(
    board: Dashboard, objectives: ObjectivesConfig, names: Mapping[str, str], period: Period
) -> DataTable:
    """Each service's result against its objective and the previous year, grouped by service
    (the service said once), the total first."""
    year, before = period.start.year, period.start.year - 1
    table = DataTable(
        "resultats",
        f"Résultats {year} au regard des objectifs et de {before}",
        [
            Column("service", "Service"),
            Column("indicator", "Indicateur"),
            Column("objective", "Objectif"),
            Column("value", str(year)),
            Column("previous", str(before)),
            Column("result", "Résultat"),
        ],
    )
    groups = [(ALL_SERVICES, None, board.total)] + [
        (names.get(s.service, s.service), s.service, s) for s in board.services
    ]
    groups[1:] = sorted(groups[1:], key=lambda g: glossary.reading_order(g[0]))
    for label, service, assessed in groups:
        chosen = objectives.for_service(service)
        first = True
        for indicator in COMMITMENTS:
            objective = chosen.get(indicator)
            if objective is None:
                continue
            value = getattr(assessed.counts, indicator)
            previous = getattr(assessed.previous, indicator) if assessed.previous else None
            table.rows.append(
                [
                    label if first else "",
                    indicator_label(indicator),
                    fmt.objective(indicator, objective.target, objective.kind),
                    _value(indicator, value),
                    _value(indicator, previous),
                    _verdict(objective, value),
                ]
            )
            first = False
    return table


# --- month by month, per service ---------------------------------------------------------------


@dataclass(slots=True)
class ServiceMonths:
    label: str
    charts: list[Markup]
    table: DataTable
    summary: str


def _month_labels(keys: Sequence[str]) -> list[str]:
    return [MONTHS_SHORT_FR[int(key[5:7]) - 1] for key in keys]


# The small charts' axis: the months' initials (the table under them has the abbreviations).
INITIALS = ("J", "F", "M", "A", "M", "J", "J", "A", "S", "O", "N", "D")


def _month_value(indicator: str, value: float | None) -> str:
    """A value in the narrow month columns: the % held to its number (narrow no-break space)."""
    return "—" if value is None else _value(indicator, value).replace(" %", "\u202f%")


def service_months(
    indicators: Indicators, period: Period, names: Mapping[str, str]
) -> list[ServiceMonths]:
    """Per service (every service first), a small chart of each indicator with an objective
    over the twelve months, and the monthly values as a table (the charts' text alternative)."""
    months = [f"{period.start.year}-{m:02d}" for m in range(1, 13)]
    steps = indicators.breakdown(period.start, period.end, "month")
    labels = _month_labels(months)
    services = sorted(
        {s for per in steps.values() for s in per if s != TOTAL}, key=glossary.by_name(names)
    )
    found: list[ServiceMonths] = []
    for service in [TOTAL, *services]:
        label = ALL_SERVICES if service == TOTAL else names.get(service, service)
        chosen = indicators.objectives.for_service(None if service == TOTAL else service)
        counts = [steps.get(m, {}).get(service) for m in months]
        table = DataTable(
            f"mois-{'tous' if service == TOTAL else service}",
            f"{label} — mois par mois",
            [
                Column("indicator", "Indicateur"),
                *(Column(m, labels[i], "text") for i, m in enumerate(months)),
            ],
        )
        offered: list[Cell] = ["Appels présentés"]
        offered += [fmt.number(c.offered) if c is not None else "—" for c in counts]
        table.rows.append(offered)
        charts: list[Markup] = []
        kept: list[str] = []
        for indicator in COMMITMENTS:
            objective = chosen.get(indicator)
            if objective is None:
                continue
            values = [getattr(c, indicator) if c is not None else None for c in counts]
            met = [None if v is None else objective.met(v) for v in values]
            name = indicator_label(indicator)
            aim = fmt.objective(indicator, objective.target, objective.kind)
            charts.append(
                month_line(
                    labels,
                    values,
                    ticks=INITIALS,
                    title=name,
                    target=objective.target,
                    met=met,
                    percent=glossary.unit_of(indicator) == "rate",
                    desc=f"{label}, {name} par mois ; ligne pointillée : objectif {aim}. "
                    "Valeurs dans le tableau qui suit.",
                )
            )
            measured = [m for m in met if m is not None]
            if measured:
                kept.append(f"{name.lower()} {sum(measured)} mois sur {len(measured)}")
            row: list[Cell] = [f"{name} ({aim})"]
            row += [_month_value(indicator, v) for v in values]
            table.rows.append(row)
        summary = "Objectif tenu : " + " ; ".join(kept) + "." if kept else "Aucun mois mesuré."
        found.append(ServiceMonths(label, charts, table, summary))
    return found


# --- calls received while closed, by hour of the day ------------------------------------------


@dataclass(slots=True)
class ClosedCalls:
    """The calls received while closed, per service and hour of the day: evidence for the
    opening hours (the town's plan: « adaptation des horaires d'ouverture »)."""

    summary: str
    chart: Markup | None
    tables: list[DataTable]  # the chart's values (its text alternative), 12 hours a table
    note: str = ""


# The PDF's text width (A4 less its margins) in CSS pixels: the heat map never wider.
PAGE_WIDTH_PX = 680
HOURS_A_TABLE = 12  # past that, a second table: the columns keep the width of a month's


def _hour(hour: int) -> str:
    return f"{hour}\u00a0h"


def _peaks(hours: Mapping[int, int]) -> str:
    """« 12 h (20), 17 h (15) et 8 h (12) »: the three busiest hours, busiest first."""
    top = sorted(hours.items(), key=lambda item: (-item[1], item[0]))[:3]
    said = [f"{_hour(h)} ({fmt.number(n)})" for h, n in top]
    return said[0] if len(said) == 1 else ", ".join(said[:-1]) + " et " + said[-1]


def closed_calls(indicators: Indicators, period: Period, names: Mapping[str, str]) -> ClosedCalls:
    """Per service (every service first, each call once), the calls received while closed by
    local hour of the day, read from the breakdown by hour the service pages show (its
    ``closed`` count): rows the services that had some, columns the hours from the first to
    the last that had some."""
    found: dict[str, dict[int, int]] = {}
    for key, per_service in indicators.breakdown(period.start, period.end, "hour").items():
        for group, counts in per_service.items():
            if counts.closed:
                found.setdefault(group, {})[int(key.removesuffix("h"))] = counts.closed
    if not found:
        return ClosedCalls(
            f"Aucun {glossary.GLOSSARY['closed'].one} enregistré sur la période.", None, []
        )
    services = sorted((s for s in found if s != TOTAL), key=glossary.by_name(names))
    groups = [g for g in (TOTAL, *services) if g in found]
    labels = [ALL_SERVICES if g == TOTAL else names.get(g, g) for g in groups]
    seen = {h for per_hour in found.values() for h in per_hour}
    hours = list(range(min(seen), max(seen) + 1))  # every hour between: the axis keeps its scale
    everyone = found.get(TOTAL, {})
    summary = (
        f"Tous services : {glossary.count('closed', sum(everyone.values()))} sur la période "
        "(chaque appel une fois)"
    )
    if everyone:
        summary += ", le plus souvent à " + _peaks(everyone)
    summary += "."
    chart = svg.heatmap(
        labels,
        [_hour(h) for h in hours],
        [[float(found[g][h]) if h in found[g] else None for h in hours] for g in groups],
        title=f"{glossary.label('closed')} par heure de la journée",
        desc="Une ligne par service, une colonne par heure d'arrivée ; plus la case est "
        "foncée, plus il y a d'appels à cette heure pour ce service (chaque ligne à sa propre "
        "échelle). Valeurs dans le tableau qui suit.",
        cell=24,
        font_size=8,
        max_width=PAGE_WIDTH_PX,
    )
    tables: list[DataTable] = []
    size = math.ceil(len(hours) / math.ceil(len(hours) / HOURS_A_TABLE))  # parts alike
    parts = [hours[i : i + size] for i in range(0, len(hours), size)]
    for number, part in enumerate(parts, start=1):
        caption = f"{glossary.label('closed')} par heure d'arrivée"
        if len(parts) > 1:
            caption += f" ({number}/{len(parts)} : de {_hour(part[0])} à {_hour(part[-1])})"
        table = DataTable(
            "hors-horaires" if len(parts) == 1 else f"hors-horaires-{number}",
            caption,
            [
                Column("service", "Service"),
                Column("total", glossary.label("closed"), "count"),
                *(Column(f"h{h:02d}", _hour(h), "count") for h in part),
            ],
        )
        for group, label in zip(groups, labels, strict=True):
            per_hour = found[group]
            table.rows.append([label, sum(per_hour.values()), *(per_hour.get(h) for h in part)])
        tables.append(table)
    note = (
        f"{glossary.label('closed')} : {glossary.GLOSSARY['closed'].definition} Heure "
        f"d'arrivée : « {_hour(12)} » compte ceux arrivés de 12 h 00 à 12 h 59. À lire avec les "
        "horaires d'ouverture en vigueur (section 6)."
    )
    return ClosedCalls(summary, chart, tables, note)


# --- satisfaction and callbacks ----------------------------------------------------------------


@dataclass(slots=True)
class Satisfaction:
    method: str
    sample: str
    table: DataTable | None
    callbacks: str


def survey_method(rules: CompiledRules | None, names: Mapping[str, str]) -> str:
    if rules is None or not rules.surveys:
        return "Aucune enquête de satisfaction dans les règles en vigueur."
    said = []
    for survey in rules.surveys.values():
        who = (
            "tous les services"
            if survey.services is None
            else ", ".join(
                sorted((names.get(s, s) for s in survey.services), key=glossary.reading_order)
            )
        )
        sample = "chaque appel" if survey.one_in == 1 else f"un appel sur {survey.one_in}"
        questions = len(survey.questions)
        said.append(
            f"enquête au clavier après l'appel, proposée à {sample} ({who}), avec le "
            f"consentement de l'appelant ; {counted(questions, 'question')}"
        )
    return "Méthode : " + " ; ".join(said) + "."


def satisfaction(
    indicators: Indicators, period: Period, names: Mapping[str, str], method: str
) -> Satisfaction:
    report = indicators.satisfaction(period.start, period.end) if indicators.scales else None
    table: DataTable | None = None
    sample = "Aucune enquête proposée sur la période."
    if report is not None and report.total.figures.offered:
        total = report.total.figures
        sample = (
            f"Échantillon : {glossary.count('satisfaction.offered', total.offered)}, "
            f"{glossary.count('satisfaction.reached', total.reached)}, "
            f"{glossary.count('satisfaction.responded', total.responded)} "
            f"({glossary.label('satisfaction.response_rate').lower()} : "
            f"{fmt.percent(total.response_rate)})."
        )
        target = indicators.objectives.for_service(None).get("share_satisfied")
        table = DataTable(
            "satisfaction",
            "Satisfaction des appelants par service",
            [
                Column("service", "Service"),
                Column("responded", "Réponses", "count"),
                Column("mean", "Note moyenne (sur 5)"),
                Column("share", "Part de satisfaits"),
                Column("result", "Résultat"),
            ],
        )
        named = sorted(
            ((names.get(s, s), g) for s, g in report.services.items()),
            key=lambda item: glossary.reading_order(item[0]),
        )
        groups = [(ALL_SERVICES, report.total), *named]
        for label, group in groups:
            f = group.figures
            if not f.offered:
                continue
            mean = f.mean_score
            objective = next(
                (a.objective for a in group.assessments if a.indicator == "share_satisfied"),
                target,
            )
            aim = (
                ""
                if objective is None
                else f" ({fmt.objective('share_satisfied', objective.target, objective.kind)})"
            )
            table.rows.append(
                [
                    label,
                    f.responded,
                    glossary.value("satisfaction.mean_score", mean),
                    fmt.percent(f.share_satisfied),
                    _verdict(objective, f.share_satisfied) + aim,
                ]
            )
    callbacks = indicators.callbacks(period.start, period.end)
    wanted = indicators.objectives.for_service(None).get("callback_rate")
    if not callbacks.owed:
        said = "Aucun rappel dû sur la période."
    else:
        aimed = (
            "sans objectif configuré"
            if wanted is None
            else f"objectif {fmt.objective('callback_rate', wanted.target, wanted.kind)} : "
            + _verdict(wanted, callbacks.callback_rate)
        )
        said = (
            f"{counted(callbacks.owed, 'rappel dû', 'rappels dus')}, "
            f"{fmt.number(callbacks.done)} {agreeing(callbacks.done, 'fait', 'faits')} "
            f"({fmt.percent(callbacks.callback_rate)} ; {aimed}), "
            f"{fmt.number(callbacks.expired)} {agreeing(callbacks.expired, 'expiré')}, "
            f"{fmt.number(callbacks.pending)} en attente"
            + (
                f" ; délai médian {fmt.delay(callbacks.median_delay_s)}."
                if callbacks.median_delay_s is not None
                else "."
            )
        )
    return Satisfaction(method, sample, table, said)


# --- what changed during the year --------------------------------------------------------------


@dataclass(slots=True)
class Changes:
    table: DataTable
    hours: DataTable | None
    note: str


def changes(
    history: RulesHistory | None,
    rules: CompiledRules | None,
    period: Period,
    zone: ZoneInfo,
    names: Mapping[str, str],
) -> Changes:
    start = datetime.combine(period.start, time(), zone)
    end = datetime.combine(period.end + timedelta(days=1), time(), zone)
    versions = history.between(start, end) if history is not None else []
    table = DataTable(
        "evolutions",
        "Règles d'accueil mises en vigueur pendant l'année",
        [Column("date", "En vigueur depuis"), Column("what", "Changements")],
    )
    note = ""
    if not versions:
        note = "Aucune version des règles enregistrée pour l'année."
    for before, after in zip([None, *versions], versions, strict=False):
        when = after.in_force_from.astimezone(zone)
        if before is None:
            if when <= start:
                continue  # in force before the year began: the starting point
            said = ["première version enregistrée"]
        else:
            said = changes_fr(before.services, after.services) or [
                "aucun changement des services, horaires, postes ou sonneries (menus, messages "
                "ou enquête seulement)"
            ]
        table.rows.append([f"{when:%d/%m/%Y à %H:%M}", " ; ".join(said)])
    if versions and not table.rows:
        note = "Règles inchangées pendant l'année."
    hours: DataTable | None = None
    if rules is not None:
        hours = DataTable(
            "horaires",
            "Horaires d'ouverture en vigueur à la date du document",
            [
                Column("service", "Service"),
                Column("hours", "Horaires"),
                Column("agents", "Postes", "count"),
            ],
        )
        for service in sorted(
            rules.services.values(), key=lambda s: glossary.reading_order(s.name)
        ):
            hours.rows.append(
                [
                    names.get(service.id, service.name),
                    hours_fr(service.schedule),
                    len(service.agents),
                ]
            )
    return Changes(table, hours, note)


# --- internal audits ---------------------------------------------------------------------------


@dataclass(slots=True)
class Audits:
    summary: str
    failures: DataTable | None


def audits(history: AuditHistory | None, period: Period, zone: ZoneInfo) -> Audits:
    if history is None:
        return Audits("Les audits internes ne sont pas disponibles pour ce document.", None)
    start = datetime.combine(period.start, time(), zone)
    end = datetime.combine(period.end + timedelta(days=1), time(), zone)
    runs = [r for r in history.runs(start=start, end=end, limit=None) if r.results]
    if not runs:
        return Audits("Aucun audit des parcours téléphoniques pendant l'année.", None)
    runs.sort(key=lambda r: r.started_at)
    paths = {result.path_id for run in runs for result in run.results}
    clean = sum(1 for run in runs if not run.failed)
    first, last = (run.started_at.astimezone(zone) for run in (runs[0], runs[-1]))
    summary = (
        f"{counted(len(runs), 'audit', 'audits')} des parcours du {first:%d/%m/%Y} au "
        f"{last:%d/%m/%Y}, {counted(len(paths), 'parcours vérifié', 'parcours vérifiés')} ; "
        f"{counted(clean, 'audit sans défaut', 'audits sans défaut')}, "
        f"{counted(len(runs) - clean, 'audit', 'audits')} avec au moins un parcours en échec."
    )
    failures = DataTable(
        "audit-defauts",
        "Défauts trouvés par les audits et leur correction",
        [
            Column("path", "Parcours"),
            Column("check", "Vérification"),
            Column("seen", "Constaté le"),
            Column("fixed", "Corrigé le"),
        ],
    )
    seen: dict[tuple[str, str], datetime] = {}
    labels: dict[str, str] = {}
    for run in runs:
        for result in run.results:
            if result.verdict is not Verdict.FAILED:
                continue
            labels[result.path_id] = result.label
            for check in result.failures:
                seen.setdefault((result.path_id, check.name), run.started_at)
    for (path_id, check_name), when in sorted(seen.items(), key=lambda item: item[1]):
        fixed = history.fixed_at(path_id, when)
        failures.rows.append(
            [
                labels[path_id],
                check_name,
                f"{when.astimezone(zone):%d/%m/%Y}",
                f"{fixed.astimezone(zone):%d/%m/%Y}" if fixed else "non corrigé à ce jour",
            ]
        )
    return Audits(summary, failures if failures.rows else None)


# --- the action plan ---------------------------------------------------------------------------


@dataclass(slots=True)
class ActionPlanView:
    follow_up: DataTable  # the actions of the year and of the previous review, with status
    decisions: DataTable  # the actions decided at this review
    objectives: DataTable | None  # the objectives this review revised
    summary: str


def _current(objectives: ObjectivesConfig) -> dict[tuple[str | None, str], str]:
    current: dict[tuple[str | None, str], str] = {}
    for indicator, objective in objectives.default.items():
        current[(None, indicator)] = _objective_text(indicator, objective)
    for service, own in objectives.services.items():
        for indicator, objective in own.items():
            current[(service, indicator)] = _objective_text(indicator, objective)
    return current


def _objective_text(indicator: str, objective: Objective) -> str:
    from reports.quality_terms import INDICATOR_TERMS

    term = INDICATOR_TERMS.get(indicator)
    if term is None:
        return fmt.objective(indicator, objective.target, objective.kind)
    return term.objective(objective.target, objective.kind)


def action_plan(
    records: QualityRecords,
    period: Period,
    names: Mapping[str, str],
    objectives: ObjectivesConfig,
    today: date,
) -> ActionPlanView:
    year = period.start.year
    actions = records.actions.of_year(year)

    def decided_here(action: Action) -> bool:
        return action.draft.origin is Origin.REVIEW and action.draft.review_year == year

    follow = [a for a in actions if not decided_here(a)]
    decided = [a for a in actions if decided_here(a)]
    done = sum(1 for a in follow if not a.is_open)
    late = sum(1 for a in follow if a.is_open and a.draft.due < today)
    summary = (
        f"{counted(len(follow), 'action suivie', 'actions suivies')} pendant l'année "
        f"(dont celles de la revue {year - 1}) : {counted(done, 'close', 'closes')}, "
        f"{counted(len(follow) - done, 'encore ouverte', 'encore ouvertes')}"
        + (f" dont {late} en retard" if late else "")
        + f" ; {counted(len(decided), 'décidée', 'décidées')} à cette revue."
    )
    revised = records.reviews.objectives(year)
    return ActionPlanView(
        actions_table(
            follow,
            names,
            name="suivi-actions",
            caption=f"Actions de l'année et de la revue {year - 1}, état au {today:%d/%m/%Y}",
            on=today,
        ),
        actions_table(
            decided,
            names,
            name="decisions",
            caption=f"Actions décidées à la revue {year}",
            on=today,
            result=False,
        ),
        objectives_revised_table(
            revised,
            names,
            name="objectifs-revises",
            caption=f"Objectifs révisés par la revue {year}",
            current=_current(objectives),
        )
        if revised
        else None,
        summary,
    )


@dataclass(slots=True)
class AnnualReview:
    """Every section of the annual review, ready for the template."""

    cover: Cover
    coverage: Coverage
    commitments: DataTable
    results: DataTable
    months: list[ServiceMonths]
    closed: ClosedCalls
    satisfaction: Satisfaction
    changes: Changes
    audits: Audits
    plan: ActionPlanView | None


def annual_review(
    indicators: Indicators,
    board: Dashboard,
    period: Period,
    names: Mapping[str, str],
    records: QualityRecords | None,
    *,
    zone: ZoneInfo,
    today: date,
    progress: Callable[[str], None] = lambda _: None,
) -> AnnualReview:
    """Every section; ``progress`` is told each step (5 of them)."""
    year = period.start.year
    review = records.reviews.get(year) if records is not None else None
    rules = records.rules_now() if records is not None and records.rules_now else None
    objectives = indicators.objectives
    progress("périmètre et couverture des données")
    covered = coverage(indicators, period, names, today)
    progress("mois par mois, par service")
    months = service_months(indicators, period, names)
    closed = closed_calls(indicators, period, names)
    progress("satisfaction et rappels")
    satisfied = satisfaction(indicators, period, names, survey_method(rules, names))
    progress("évolutions et audits")
    history = records.rules_history if records is not None else None
    changed = changes(history, rules, period, zone, names)
    audited = audits(records.audits if records is not None else None, period, zone)
    progress("plan d'actions")
    plan = action_plan(records, period, names, objectives, today) if records else None
    return AnnualReview(
        cover=cover(review),
        coverage=covered,
        commitments=commitments_table(objectives, names),
        results=results_table(board, objectives, names, period),
        months=months,
        closed=closed,
        satisfaction=satisfied,
        changes=changed,
        audits=audited,
        plan=plan,
    )
