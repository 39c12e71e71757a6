"""Tables beside the indicators: the voice menus, the callbacks owed, the callers'
satisfaction — each read through :class:`analytics.api.Indicators`. Pure of HTTP and HTML."""

from __future__ import annotations

from collections.abc import Mapping

from analytics import glossary
from analytics.api import Indicators
from reports import format as fmt
from reports.periods import Period
from reports.tables import Column, DataTable
from reports.views import TOTAL
from routing_rules.narration import MenuWords, keypad_order, menu_name


def detail_tables(
    indicators: Indicators, period: Period, menus: Mapping[str, MenuWords] | None = None
) -> tuple[DataTable | None, DataTable | None]:
    """The voice menus' choices and the callbacks owed (None: nothing in the period).

    ``menus``: each menu's name and what each of its keys does (of the rules in force), said
    beside the key, in the order a caller meets the menus; a menu the rules no longer have is
    named from its id, after them."""
    ivr = indicators.ivr(period.start, period.end)
    ivr_table: DataTable | None = None
    if ivr.calls:
        ivr_table = DataTable(
            name="choix-menu",
            caption=(
                f"Choix dans le menu vocal ({glossary.count('ivr.calls', ivr.calls)}, "
                f"{glossary.count('left_in_menu', ivr.hangups_in_ivr)})"
            ),
            columns=[
                Column("menu", "Menu"),
                Column("key", "Touche"),
                Column("n", glossary.label("ivr.choices"), "count"),
            ],
        )
        rank = {menu: index for index, menu in enumerate(menus or {})}
        for menu in sorted(
            ivr.choices, key=lambda m: (rank.get(m, len(rank)), "" if m in rank else menu_name(m))
        ):
            keys = ivr.choices[menu]
            words = (menus or {}).get(menu)
            name = words.name if words is not None else menu_name(menu)
            for key, n in sorted(keys.items(), key=lambda item: keypad_order(item[0])):
                meaning = words.keys.get(key) if words is not None else None
                said = f"touche {key} : {meaning}" if meaning else f"touche {key}"
                ivr_table.rows.append([name, said, n])
            for what, counter in (
                ("sans choix (délai)", ivr.timeouts),
                ("touche invalide", ivr.invalid),
            ):
                if counter.get(menu):
                    ivr_table.rows.append([name, what, counter[menu]])
    callbacks = indicators.callbacks(period.start, period.end)
    callbacks_table: DataTable | None = None
    if callbacks.owed:
        callbacks_table = DataTable(
            name="rappels",
            caption="Rappels dus (demandes, appels abandonnés ou débordés avec un numéro)",
            columns=[Column("measure", "Indicateur"), Column("value", "Valeur")],
        )
        for key, figure in (
            ("owed", callbacks.owed),
            ("done", callbacks.done),
            ("expired", callbacks.expired),
            ("pending", callbacks.pending),
            ("callback_rate", callbacks.callback_rate),
            ("median_delay_s", callbacks.median_delay_s),
        ):
            term = f"callbacks.{key}"
            callbacks_table.rows.append([glossary.label(term), glossary.value(term, figure)])
    return ivr_table, callbacks_table


def satisfaction_table(indicators: Indicators, period: Period, service: str) -> DataTable | None:
    """The survey figures of one service (or every service for the total page) beside their
    objectives; None when the rules have no survey or no caller was offered it in the period."""
    report = indicators.satisfaction(period.start, period.end) if indicators.scales else None
    if report is None:
        return None
    group = report.total if service == TOTAL else report.services.get(service)
    if group is None or group.figures.offered == 0:
        return None
    figures = group.figures
    table = DataTable(
        name=f"satisfaction-{service}",
        caption=(
            f"Enquête de satisfaction : "
            f"{glossary.count('satisfaction.offered', figures.offered)}, "
            f"{glossary.count('satisfaction.responded', figures.responded)}"
        ),
        columns=[
            Column("indicator", "Indicateur"),
            Column("value", "Valeur"),
            Column("objective", "Objectif"),
            Column("result", "Résultat"),
        ],
    )
    for assessment in group.assessments:
        objective = assessment.objective
        target = (
            "—"
            if objective is None
            else fmt.objective(assessment.key, objective.target, objective.kind)
        )
        shown = glossary.value(assessment.key, assessment.value)
        table.rows.append([assessment.label, shown, target, assessment.status_fr])
    return table
