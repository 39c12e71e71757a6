"""Per-agent figures (:func:`analytics.details.agent_figures`) as tables: each agent's own on the
agents' page, and the agents of a service on its page for the quality lead.

Watching individual staff is a matter for the staff representatives (consulted before such a
tool is used: the comité social territorial of a town hall) and for the agents themselves
(informed beforehand, as the CNIL asks): the quality lead's table shows the agents under a
pseudonym unless the town has decided to name them (``web.name_agents_in_figures``);
``docs/chiffres-par-agent.md`` says why. The pseudonyms number the agents by how often their
phone rang in the period, not by phone: the number says nothing of who it is. Pure of HTTP and
HTML.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from analytics.details import AgentFigures
from reports.tables import Column, DataTable

_FIGURES = (
    Column("presented", "Appels présentés au poste", "count"),
    Column("answered", "Décrochés au poste", "count"),
    Column("missed", "Sans réponse", "count"),
    Column("busy", "Poste occupé", "count"),
    Column("unreachable", "Poste injoignable", "count"),
    Column("stopped", "Sonnerie arrêtée", "count"),
    Column("ring", "Sonnerie avant décroché (moyenne)", "seconds"),
)


def _cells(figures: AgentFigures) -> list[int | float | None]:
    return [
        figures.presented,
        figures.answered,
        figures.missed,
        figures.busy,
        figures.unreachable,
        # The rest: the phone stopped ringing when another phone of the call was answered
        # (or the caller hung up) — the figures of a phone add up to its calls presented.
        figures.presented - figures.answered - figures.missed - figures.busy - figures.unreachable,
        figures.mean_ring_answered_s,
    ]


def service_agents_table(
    figures: Mapping[str, AgentFigures],
    service_id: str,
    phones: Sequence[str],
    logins: Mapping[str, str],
    *,
    named: bool,
) -> DataTable | None:
    """The agents' phones of ``service_id`` (``phones``, from the rules) that rang in the
    period, one row each; named by their account (``logins``: phone -> login) when ``named``,
    else "Agent 1", "Agent 2"... None when none of them rang."""
    rows = sorted(
        (figures[p] for p in set(phones) if p in figures and figures[p].presented),
        key=lambda f: (-f.presented, -f.answered, f.endpoint),
    )
    if not rows:
        return None
    how = "par compte" if named else "pseudonymisés"
    table = DataTable(
        name=f"agents-{service_id}",
        caption=(
            f"Appels présentés à chaque agent ({how}) ; un poste de plusieurs services compte "
            "les appels de tous ses services"
        ),
        columns=[Column("agent", "Agent"), *_FIGURES],
    )
    for number, agent in enumerate(rows, start=1):
        label = (
            logins.get(agent.endpoint, f"poste {agent.endpoint}") if named else f"Agent {number}"
        )
        table.rows.append([label, *_cells(agent)])
    return table


def own_figures_table(figures: AgentFigures | None, period_label: str) -> DataTable:
    """One agent's own figures over the period (their phone's rings), measure by measure."""
    table = DataTable(
        name="mes-chiffres",
        caption=f"Mes appels — {period_label}",
        columns=[Column("measure", "Mesure"), Column("value", "Valeur")],
    )
    values = _cells(figures) if figures is not None else [0, 0, 0, 0, 0, 0, None]
    explained = (
        "Appels présentés à mon poste",
        "Décrochés au poste",
        "Sans réponse (sonnerie non décrochée ou refusée)",
        "Poste occupé (déjà en communication)",
        "Poste injoignable (non connecté)",
        "Sonnerie arrêtée (pris par un collègue, ou l'appelant a raccroché)",
        "Sonnerie avant décroché (moyenne)",
    )
    for label, column, value in zip(explained, _FIGURES, values, strict=True):
        shown = DataTable("", "", [column], [[value]]).display([value], 0)
        table.rows.append([label, shown])
    return table
