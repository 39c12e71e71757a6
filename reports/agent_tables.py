"""Per-agent figures (:func:`analytics.details.agent_figures`) as tables: each agent's own on the
agents' page, and the agents of a service on its page for the quality lead.

Watching individual staff is a matter for the staff representatives (consulted before such a
tool is used: the comité social territorial of a town hall) and for the agents themselves
(informed beforehand, as the CNIL asks): the quality lead's table shows the agents under a
pseudonym unless the town has decided to name them (``web.name_agents_in_figures``);
``docs/chiffres-par-agent.md`` says why. The pseudonyms number the agents by how often their
phone rang in the period, not by phone: the number says nothing of who it is. Pure of HTTP and
HTML.

:func:`agent_labels` is the one place an agent's label is decided; :class:`AgentNaming` (built by
the composition root, :meth:`decroche.app.App.agent_naming`) carries the town's choice to the
commands, so that ``decroche survey`` labels an agent as the service's page does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

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


def agent_labels(
    figures: Mapping[str, AgentFigures],
    phones: Sequence[str],
    logins: Mapping[str, str],
    *,
    named: bool,
    others: Iterable[str] = (),
) -> dict[str, str]:
    """Phone -> label of the phones of a service (``phones``, from the rules) that rang in the
    period, in the order of the service's table: by how often they rang. Named by their account
    (``logins``: phone -> login, else « poste PJSIP/1001 ») when ``named``, else « Agent 1 »,
    « Agent 2 »...

    ``others``: phones to label too though the service's table does not show them (not among
    its phones in the rules in force, or never rang): after the table's, « Autre agent 1 »...
    when pseudonymised, so that a label never gives a phone away."""

    def rank(endpoints: Iterable[str]) -> list[str]:
        known = [figures.get(p, AgentFigures(p)) for p in set(endpoints)]
        return [
            f.endpoint for f in sorted(known, key=lambda f: (-f.presented, -f.answered, f.endpoint))
        ]

    shown = rank(p for p in phones if p in figures and figures[p].presented)
    extra = rank(set(others) - set(shown))

    def label(phone: str, number: int, pseudonym: str) -> str:
        return logins.get(phone, f"poste {phone}") if named else f"{pseudonym} {number}"

    labels = {phone: label(phone, n, "Agent") for n, phone in enumerate(shown, start=1)}
    labels.update({phone: label(phone, n, "Autre agent") for n, phone in enumerate(extra, start=1)})
    return labels


@dataclass(frozen=True, slots=True)
class AgentNaming:
    """The town's choice for the quality lead's per-agent figures (``web.name_agents_in_figures``)
    with what labels need: the accounts of the phones and each service's phones in the rules."""

    named: bool
    logins: Mapping[str, str]  # phone -> account
    service_phones: Mapping[str, Sequence[str]]  # service -> its agents' phones, from the rules

    def labels(
        self, figures: Mapping[str, AgentFigures], service_id: str, others: Iterable[str] = ()
    ) -> dict[str, str]:
        """Phone -> label of the agents of ``service_id``, as its page shows them over the period
        of ``figures`` (:func:`agent_labels`)."""
        phones = self.service_phones.get(service_id, ())
        return agent_labels(figures, phones, self.logins, named=self.named, others=others)


def service_agents_table(
    figures: Mapping[str, AgentFigures],
    service_id: str,
    phones: Sequence[str],
    logins: Mapping[str, str],
    *,
    named: bool,
) -> DataTable | None:
    """The agents' phones of ``service_id`` (``phones``, from the rules) that rang in the
    period, one row each, labelled by :func:`agent_labels`. None when none of them rang."""
    labels = agent_labels(figures, phones, logins, named=named)
    if not labels:
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
    for phone, label in labels.items():
        table.rows.append([label, *_cells(figures[phone])])
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
