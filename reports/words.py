"""What the pages, the reports and the command line say of the figures, in sentences: the calls
received, the objectives the total meets while services miss them, a service that stops ringing
within its commitment and where its unanswered calls went, the ring commitments.

Every indicator is named with the glossary's words (:mod:`analytics.glossary`) and every number
written as a French reader writes it; the dashboard, the reports and ``decroche indicators``
say the same sentences.
"""

from __future__ import annotations

from collections.abc import Mapping

from analytics import glossary
from analytics.api import ServiceAssessment, Shortfall
from analytics.definitions import CallsReceived, Counts, Parameters
from analytics.indicators import Unanswered
from routing_rules.messages import counted

# The calls received, in the order the sentence gives them.
RECEIVED_TERMS = ("received", "left_in_menu", "closed", "offered", "answered")


def received(calls: CallsReceived, total: Counts, *, queue_log: bool = False) -> str:
    """« 615 appels reçus : 15 appels raccrochés dans le menu vocal, 66 appels reçus hors
    horaires, 534 appels présentés ; 515 appels décrochés, soit un taux de décroché de 96,8 %. »
    From a queue_log, only the queues' calls are known: the sentence says so."""
    rate = glossary.label("answer_rate").lower()
    taken = (
        f"{glossary.count('answered', total.answered)}, soit un {rate} de "
        f"{glossary.percent(total.answer_rate)}."
    )
    if queue_log:
        return (
            f"{glossary.count('offered', calls.offered)} (queue_log : ni le menu vocal ni les "
            f"appels reçus hors horaires n'y figurent) ; {taken}"
        )
    parts = [
        glossary.count("left_in_menu", calls.left_in_menu),
        glossary.count("closed", calls.closed),
        glossary.count("offered", calls.offered),
    ]
    if calls.other:
        parts.append(
            counted(
                calls.other,
                "autre appel (message ou demande de rappel choisis dans le menu, incident)",
                "autres appels (message ou demande de rappel choisis dans le menu, incident)",
            )
        )
    return f"{glossary.count('received', calls.received)} : {', '.join(parts)} ; {taken}"


def received_definitions() -> list[tuple[str, str]]:
    """The terms of :func:`received`, each with its definition."""
    return [(glossary.label(key), glossary.GLOSSARY[key].definition) for key in RECEIVED_TERMS]


def shortfall(found: Shortfall, names: Mapping[str, str]) -> str:
    """« Taux de décroché : objectif atteint pour l'ensemble des services (96,8 %, objectif
    ≥ 85,0 %), mais 2 services ne l'atteignent pas : Cabinet du maire (0,0 %), … »"""
    total = found.total
    objective = total.objective
    target = ""
    if objective is not None:
        sign = "≥" if objective.kind == "min" else "≤"
        target = f", objectif {sign} {glossary.value(total.key, objective.target)}"
    missed = ", ".join(
        f"{names.get(service, service)} ({glossary.value(a.key, a.value)})"
        for service, a in found.services
    )
    n = len(found.services)
    who = counted(n, "service ne l'atteint pas", "services ne l'atteignent pas")
    return (
        f"{total.label} : objectif atteint pour l'ensemble des services "
        f"({glossary.value(total.key, total.value)}{target}), mais {who} : {missed}."
    )


def destination(target: str, names: Mapping[str, str]) -> str:
    if target == "message":
        return "un message"
    if target == "rappel":
        return "une demande de rappel"
    return names.get(target, target)


def ring_limit(assessed: ServiceAssessment, parameters: Parameters) -> str | None:
    """Said of a service that stops ringing within its commitment: its service level equals its
    answer rate by construction."""
    if not assessed.rings_within_commitment or assessed.ring_limit_s is None:
        return None
    cycle = parameters.ring_seconds
    rings = assessed.ring_limit_s / cycle
    ring_words = counted(round(rings), "sonnerie", "sonneries")
    return (
        f"Ce service sonne {glossary.decimal(assessed.ring_limit_s)} s au plus ({ring_words}) "
        f"avant de déborder, pas plus que son engagement (décroché "
        f"{assessed.commitment.words}) : tout appel qu'il décroche l'est dans l'engagement, son "
        f"{glossary.label('service_level').lower()} égale son "
        f"{glossary.label('answer_rate').lower()}. Ce qui compte : où vont les appels qu'il ne "
        "décroche pas."
    )


def ring_limits(services: list[ServiceAssessment], names: Mapping[str, str]) -> str | None:
    """The dashboard's one sentence for the services that stop ringing within their
    commitment (each card would repeat :func:`ring_limit`)."""
    within = [s for s in services if s.rings_within_commitment and s.ring_limit_s is not None]
    if not within:
        return None
    listed = ", ".join(
        f"{names.get(s.service, s.service)} ({glossary.decimal(s.ring_limit_s or 0.0)}"
        f"{glossary.NBSP}s)"
        for s in sorted(within, key=lambda s: glossary.by_name(names)(s.service))
    )
    service_level = glossary.label("service_level").lower()
    answer_rate = glossary.label("answer_rate").lower()
    return (
        f"Ces services sonnent au plus la durée de leur engagement de sonneries avant de "
        f"déborder : {listed}. Tout appel qu'ils décrochent l'est dans l'engagement, leur "
        f"{service_level} égale leur {answer_rate} ; ce qui compte : où vont les appels qu'ils "
        "ne décrochent pas (ci-dessous)."
    )


def unanswered(found: Unanswered, names: Mapping[str, str]) -> str | None:
    """« Non décrochés : 2 abandons ; 17 débordements (vers Accueil général : 15, un message :
    2) ; 12 appels non décrochés pris ensuite par un agent. »"""
    if not found.abandoned and not found.overflowed:
        return None
    parts = [glossary.count("abandoned", found.abandoned)]
    if found.overflowed:
        where = ", ".join(
            f"{destination(target, names)} : {glossary.number(n)}"
            for target, n in sorted(found.destinations.items(), key=lambda item: -item[1])
        )
        parts.append(f"{glossary.count('overflowed', found.overflowed)} (vers {where})")
        parts.append(glossary.count("answered_later", found.answered_later))
    return f"Non décrochés : {' ; '.join(parts)}."


def service_notes(
    assessed: ServiceAssessment, parameters: Parameters, names: Mapping[str, str]
) -> list[str]:
    """What a service's card says beside its rates: that it stops ringing within its
    commitment, and where the calls it did not answer went."""
    if assessed.service == "total":
        return []
    notes = [note for note in (ring_limit(assessed, parameters),) if note]
    fate = unanswered(assessed.unanswered, names)
    if fate is not None:
        notes.append(fate)
    elif notes:
        notes.append("Non décrochés : aucun sur la période.")
    return notes


def engagements(parameters: Parameters, names: Mapping[str, str]) -> str:
    """The ring commitments in force: the default one, then each service that words its own."""
    text = f"Engagement de sonneries : {parameters.convention()}"
    own = [
        f"{names.get(service, service)} : {parameters.convention(service)}"
        for service in sorted(parameters.commitments, key=glossary.by_name(names))
        if parameters.commitment_for(service) != parameters.commitment
    ]
    if own:
        text += " ; sauf " + " ; ".join(own)
    return text + "."


def short_abandons(parameters: Parameters) -> str:
    seconds = glossary.decimal(parameters.short_abandon_s)
    return (
        f"{glossary.label('short_abandoned')} : raccrochés moins de {seconds} s après l'arrivée "
        "de l'appel (erreurs de numéro), exclus de la base des taux."
    )
