"""The staffing plan as French text: ``decroche staffing``'s table, per service and slot.

Read by a town hall's IT and quality lead: service names, French days, decimal commas, and the
slots short of agents said in words and marked with a symbol (never by colour alone).
"""

from __future__ import annotations

from analytics import glossary
from analytics.staffing.plan import ServiceStaffing, SlotStaffing, StaffingPlan, hhmm

WEEKDAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
SHORT_MARK = "▲"  # the symbol of a slot short of agents, on the page as in the table


def decimal(value: float, digits: int = 1) -> str:
    return f"{value:.{digits}f}".replace(".", ",")


def percent(value: float) -> str:
    return f"{decimal(value * 100)} %"


def duration(seconds: float) -> str:
    """``3 min 05 s``, or ``42 s`` under a minute."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    return f"{whole // 60} min {whole % 60:02d} s"


def agents(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else decimal(value)


# The table's column headers, short enough for a terminal; the legend gives the full words.
_SHORT_HEADERS = (
    "Jour",
    "Créneau",
    "Appels/h",
    "Durée moy.",
    "Nécess.",
    "Erlang C",
    "Présents",
    "Niv. serv.",
    "Décroché",
    "État",
)
_LEGEND = (
    ("Durée moy.", "mean_handle_s"),
    ("Nécess.", "agents_needed"),
    ("Erlang C", "agents_needed_erlang_c"),
    ("Présents", "agents_observed"),
    ("Niv. serv.", "expected_service_level"),
    ("Décroché", "expected_answer_rate"),
)


def status_fr(slot: SlotStaffing) -> str:
    """What a person should read of a slot: short of agents, out of reach, or covered."""
    parts: list[str] = []
    if slot.short_by > 0:
        missing = slot.short_by
        noun = "agent" if missing <= 1 else "agents"
        parts.append(f"{SHORT_MARK} sous-effectif : {agents(round(missing, 1))} {noun} manquant")
        if missing > 1:
            parts[-1] += "s"
    if not slot.reachable:
        parts.append("objectifs hors d'atteinte par l'effectif seul (décroché trop lent)")
    if not parts:
        parts.append("effectif suffisant" if slot.traffic.agents_observed is not None else "")
    return " ; ".join(p for p in parts if p)


def slot_label(slot: SlotStaffing) -> str:
    t = slot.traffic
    return f"{WEEKDAYS_FR[t.weekday - 1]} {hhmm(t.start_s)}-{hhmm(t.end_s)}"


def _service_lines(service: ServiceStaffing) -> list[str]:
    traffic = service.traffic
    pickup = traffic.pickup
    patience = traffic.mean_patience_s
    t = service.targets
    lines = [
        f"{service.name} — modèle : {service.why}.",
        f"  Objectifs du service : {t.words()}.",
        "  Patience moyenne estimée : "
        + (
            f"{duration(patience)} ({traffic.abandons} abandons)"
            if patience is not None
            else "aucun abandon sur la période (appelants supposés patients)"
        )
        + ".",
    ]
    if pickup.rung and service.model == "erlang_a":
        lines.append(
            f"  Sonnerie avant décroché : {decimal(pickup.mean_delay_s)} s en moyenne "
            "(ajoutée à l'attente dans la file)."
        )
    elif pickup.rung:
        lines.append(
            f"  Appels présentés à un agent libre : {pickup.rung}, décrochés "
            f"{percent(pickup.answered_share)}, dont {t.engagement} "
            f"{percent(pickup.within_share)} ; sonnerie avant décroché "
            f"{decimal(pickup.mean_delay_s)} s en moyenne."
        )
    if traffic.after_call_work_s:
        lines.append(f"  Travail après appel compté : {duration(traffic.after_call_work_s)}.")
    headers = list(_SHORT_HEADERS)
    rows = [
        [
            WEEKDAYS_FR[slot.traffic.weekday - 1],
            f"{hhmm(slot.traffic.start_s)}-{hhmm(slot.traffic.end_s)}",
            decimal(slot.traffic.calls_per_hour),
            duration(slot.traffic.mean_handle_s),
            str(slot.agents_needed),
            str(slot.agents_needed_erlang_c),
            "—"
            if slot.traffic.agents_observed is None
            else agents(round(slot.traffic.agents_observed, 1)),
            percent(slot.expected.service_level),
            percent(slot.expected.answer_rate),
            status_fr(slot),
        ]
        for slot in service.slots
    ]
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    left = {0, 1, len(headers) - 1}

    def line(cells: list[str]) -> str:
        return (
            "  "
            + "  ".join(
                c.ljust(w) if i in left else c.rjust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            ).rstrip()
        )

    lines += [line(headers), "  " + "  ".join("-" * w for w in widths)]
    lines += [line(row) for row in rows]
    return lines


def format_plan(plan: StaffingPlan) -> str:
    """The French table of ``decroche staffing``."""
    params = plan.parameters
    lines = [
        f"Agents nécessaires au téléphone du {plan.start:%d/%m/%Y} au {plan.end:%d/%m/%Y}, "
        f"par créneau de {plan.slot_minutes} min (heure locale)",
        f"Objectifs : {params.convention()}.",
        "Appels par heure : moyenne sur les semaines où le créneau est ouvert (jours fériés et "
        "heures de fermeture exclus, appels reçus par débordement et abandons courts exclus).",
        "Agents présents : agents dont le téléphone a sonné pour le service dans le créneau, en "
        "moyenne sur les jours où il a reçu des appels (un minimum : un agent jamais sonné "
        "n'est pas vu).",
    ]
    if not plan.services:
        lines += ["", "Aucun appel reçu pendant les heures d'ouverture sur la période."]
        return "\n".join(lines)
    lines.append(
        "Colonnes : "
        + " ; ".join(f"{short} = {glossary.label('staffing.' + key)}" for short, key in _LEGEND)
        + "."
    )
    for service in plan.services.values():
        lines += ["", *_service_lines(service)]
    short = plan.short_slots()
    total = sum(len(s.slots) for s in plan.services.values())
    lines.append("")
    if short:
        lines.append(
            f"{SHORT_MARK} Créneaux en sous-effectif : {len(short)} sur {total} "
            "(moins d'agents vus que nécessaires)."
        )
    else:
        lines.append(f"Aucun créneau en sous-effectif sur {total}.")
    return "\n".join(lines)
