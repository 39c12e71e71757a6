"""The action plan and the management reviews as tables: on the pages, in the monthly report and
the annual review, and in the CSV/XLSX exports (the same rows, so that what the quality lead
downloads is what the documents print). Services by name, indicators in the glossary's words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from reports.actions import Action
from reports.quality_terms import indicator_label
from reports.reviews import Review, RevisedObjective
from reports.tables import Cell, Column, DataTable

ALL_SERVICES = "tous services"
# The columns of an action wherever it is listed (pages, documents, exports).
ACTION_COLUMNS = (
    Column("id", "N°", "count"),
    Column("title", "Action"),
    Column("service", "Service"),
    Column("indicator", "Indicateur"),
    Column("owner", "Responsable"),
    Column("due", "Échéance", "date"),
    Column("status", "État"),
)


def service_name(service: str | None, names: Mapping[str, str]) -> str:
    if service is None:
        return ALL_SERVICES
    return names.get(service, service)


def status_text(action: Action, on: date | None = None) -> str:
    """« en cours », « à faire — en retard (échéance passée) », « faite le 12/11/2026 »."""
    if action.is_open:
        late = on is not None and action.draft.due < on
        return f"{action.status_fr} — en retard" if late else action.status_fr
    closed = action.closed_on
    return f"{action.status_fr} le {closed:%d/%m/%Y}" if closed else action.status_fr


def actions_table(
    actions: Sequence[Action],
    names: Mapping[str, str],
    *,
    name: str,
    caption: str,
    on: date | None = None,
    result: bool = True,
) -> DataTable:
    """One row an action; ``on``: the day the states are said for (late when due before it)."""
    columns = list(ACTION_COLUMNS)
    if result:
        columns.append(Column("result", "Résultat"))
    table = DataTable(name, caption, columns)
    for action in actions:
        row = _action_cells(action, names, on)
        if result:
            row.append(action.draft.result or "—")
        table.rows.append(row)
    return table


def _action_cells(action: Action, names: Mapping[str, str], on: date | None) -> list[Cell]:
    """The cells of :data:`ACTION_COLUMNS`."""
    draft = action.draft
    return [
        action.id,
        draft.title,
        service_name(draft.service, names),
        indicator_label(draft.indicator),
        draft.owner,
        draft.due,
        status_text(action, on),
    ]


def actions_export(actions: Sequence[Action], names: Mapping[str, str], on: date) -> DataTable:
    """Every field of every action, for the spreadsheet."""
    table = DataTable(
        "plan-actions",
        "Plan d'actions",
        [
            *ACTION_COLUMNS,
            Column("result", "Résultat"),
            Column("origin", "Origine"),
            Column("opened_on", "Enregistrée le", "date"),
            Column("closed_on", "Close le", "date"),
            Column("updated_by", "Modifiée en dernier par"),
        ],
    )
    for action in actions:
        table.rows.append(
            [
                *_action_cells(action, names, on),
                action.draft.result,
                action.origin_fr,
                action.opened_on,
                action.closed_on,
                action.updated_by,
            ]
        )
    return table


def reviews_export(reviews: Sequence[Review]) -> DataTable:
    table = DataTable(
        "revues-de-direction",
        "Revues de direction",
        [
            Column("year", "Année revue", "text"),
            Column("held_on", "Tenue le", "date"),
            Column("scope", "Périmètre"),
            Column("participants", "Participants"),
            Column("conclusions", "Conclusions"),
            Column("approved_by", "Approuvée par"),
            Column("approved_on", "Approuvée le", "date"),
        ],
    )
    for review in reviews:
        draft = review.draft
        table.rows.append(
            [
                str(review.year),
                draft.held_on,
                draft.scope,
                " ; ".join(draft.participants),
                draft.conclusions,
                draft.approved_by,
                draft.approved_on,
            ]
        )
    return table


def objectives_revised_table(
    objectives: Sequence[RevisedObjective],
    names: Mapping[str, str],
    *,
    name: str,
    caption: str,
    current: Mapping[tuple[str | None, str], str] | None = None,
) -> DataTable:
    """The objectives a review revised; ``current``: the objective the configuration gives now
    for (service, indicator), to say whether the revision was carried into it."""
    columns = [
        Column("service", "Service"),
        Column("indicator", "Indicateur"),
        Column("target", "Nouvel objectif"),
        Column("applies_from", "À partir du", "date"),
        Column("reason", "Motif"),
    ]
    if current is not None:
        columns.append(Column("current", "Objectif en vigueur aujourd'hui"))
    table = DataTable(name, caption, columns)
    for objective in objectives:
        row: list[Cell] = [
            service_name(objective.service, names),
            objective.label,
            objective.objective_text,
            objective.applies_from,
            objective.reason or "—",
        ]
        if current is not None:
            now = current.get((objective.service, objective.indicator), "aucun")
            carried = "appliqué" if now == objective.objective_text else "pas encore appliqué"
            row.append(f"{now} ({carried})")
        table.rows.append(row)
    return table
