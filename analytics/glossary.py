"""The one vocabulary of the figures: each indicator's French words, definition and JSON key.

Every page, export, PDF, CLI table, the what-if comparison and the staffing page name an
indicator with the words of :data:`TERMS`, and write its numbers with the functions below
(decimal comma, the unit once; a count with its words agreeing, by
:func:`routing_rules.messages.counted`, as everywhere else). ``docs/indicateurs.md`` carries the
same table (:func:`markdown_table`); a test keeps the two equal, and another renders every page
and report and finds no indicator named otherwise.

A term's ``label`` may hold ``{engagement}``: the ring commitment in the town's own words (« en
5 sonneries », « avant la 5e sonnerie »), filled by :func:`label`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from routing_rules.messages import counted

# "delay": hours or minutes as a person says them (« 2 h 32 min »), for delays far longer than a
# wait; "seconds": waits and rings, to a tenth of a second.
Unit = Literal["count", "rate", "seconds", "delay", "score", "agents", "per_hour", "text"]


@dataclass(frozen=True, slots=True)
class Term:
    """One indicator: ``key`` is its JSON key (dotted below its object: ``callbacks.owed``),
    ``label`` its words as a heading or column, ``one``/``many`` its words after a number
    (« 1 appel présenté », « 12 appels présentés »), ``better`` which way is better (+1 higher,
    -1 lower, 0 neither)."""

    key: str
    label: str
    definition: str
    unit: Unit = "count"
    one: str = ""
    many: str = ""
    better: int = 0

    def words(self, engagement: str | None = None) -> str:
        return fill(self.label, engagement)

    def matches(self, text: str) -> bool:
        """Is ``text`` this term's label (``{engagement}`` standing for any commitment)?"""
        if "{engagement}" not in self.label:
            return text == self.label
        pattern = re.escape(self.label).replace(r"\{engagement\}", ENGAGEMENT_PATTERN)
        return re.fullmatch(pattern, text) is not None


# A ring commitment as :class:`analytics.definitions.Commitment` words it.
ENGAGEMENT_PATTERN = r"(?:en \d+ sonneries?|avant la \d+(?:re|e) sonnerie)"
ENGAGEMENT_DEFAULT = "dans l'engagement du service"


def fill(text: str, engagement: str | None) -> str:
    return text.replace("{engagement}", engagement or ENGAGEMENT_DEFAULT)


TERMS: tuple[Term, ...] = (
    # --- the calls, per service and in total --------------------------------------------------
    Term(
        "received",
        "Appels reçus",
        "Tous les appels arrivés sur la période, chacun une fois (total seulement) : raccrochés "
        "dans le menu vocal + reçus hors horaires + présentés + autres (message ou demande de "
        "rappel choisis dans le menu, incident).",
        one="appel reçu",
        many="appels reçus",
    ),
    Term(
        "left_in_menu",
        "Raccrochés dans le menu vocal",
        "Appels dont l'appelant a raccroché dans le menu vocal, avant d'atteindre un service.",
        one="appel raccroché dans le menu vocal",
        many="appels raccrochés dans le menu vocal",
    ),
    Term(
        "closed",
        "Appels reçus hors horaires",
        "Entrées dans un service pendant qu'il était fermé selon les règles en vigueur à ce "
        "moment (avant l'ouverture, pause de midi, jour de fermeture) ; pour le total, appels "
        "dont aucune entrée n'était dans les heures d'ouverture, ou que la ligne fermée a reçus. "
        "Ni présentés ni dans aucun taux : ils renseignent sur les horaires d'ouverture.",
        one="appel reçu hors horaires",
        many="appels reçus hors horaires",
    ),
    Term(
        "offered",
        "Appels présentés",
        "Entrées dans le service pendant ses heures d'ouverture (un appel qui déborde vers un "
        "autre service y est présenté aussi) ; pour le total, appels dont une entrée au moins "
        "était dans les heures d'ouverture, chacun une fois.",
        one="appel présenté",
        many="appels présentés",
    ),
    Term(
        "answered",
        "Appels décrochés",
        "Appels présentés pris par un agent du service (pour le total : par un agent, quel que "
        "soit le service) ; un message ou une demande de rappel n'est pas un appel décroché "
        "(Plan téléphone de l'État : appels pris par un agent).",
        one="appel décroché",
        many="appels décrochés",
        better=+1,
    ),
    Term(
        "answered_within_target",
        "Décrochés {engagement}",
        "Appels décrochés dans l'engagement de sonneries du service : « en N sonneries » = "
        "attente ≤ N × 5 s, « avant la Ne sonnerie » = attente < (N − 1) × 5 s ; l'attente "
        "court de l'entrée dans le service (après le menu vocal) au décroché.",
        one="appel décroché {engagement}",
        many="appels décrochés {engagement}",
        better=+1,
    ),
    Term(
        "abandoned",
        "Abandons",
        "Appels présentés dont l'appelant a raccroché pendant l'attente ou la sonnerie.",
        one="abandon",
        many="abandons",
        better=-1,
    ),
    Term(
        "short_abandoned",
        "Abandons courts",
        "Abandons dans les 5 premières secondes de l'appel (seuil réglable), comptées depuis "
        "son arrivée et non depuis l'entrée dans le service : des erreurs de numéro, exclues de "
        "la base des taux. Un appelant passé par le menu vocal ne s'est pas trompé de numéro.",
        one="abandon court",
        many="abandons courts",
    ),
    Term(
        "overflowed",
        "Débordements",
        "Appels présentés partis du service sans réponse et sans que l'appelant raccroche : vers "
        "un autre service, un message ou une demande de rappel (pas de réponse dans le délai, "
        "tous occupés, personne de connecté, touche pour sortir).",
        one="débordement",
        many="débordements",
        better=-1,
    ),
    Term(
        "answered_later",
        "Non décrochés, pris ensuite par un agent",
        "Appels présentés que le service n'a pas décrochés et qu'un agent d'un autre service a "
        "finalement pris (après un débordement).",
        one="appel non décroché pris ensuite par un agent",
        many="appels non décrochés pris ensuite par un agent",
        better=+1,
    ),
    Term(
        "answer_rate",
        "Taux de décroché",
        "Appels décrochés / (appels présentés − abandons courts) : la part des appels pris par "
        "un agent (Plan téléphone : plus de 85 %).",
        "rate",
        better=+1,
    ),
    Term(
        "service_level",
        "Niveau de service",
        "Appels décrochés {engagement} / (appels présentés − abandons courts).",
        "rate",
        better=+1,
    ),
    Term(
        "abandonment_rate",
        "Taux d'abandon",
        "(Abandons − abandons courts) / (appels présentés − abandons courts).",
        "rate",
        better=-1,
    ),
    Term(
        "mean_wait_answered_s",
        "Attente moyenne",
        "Moyenne des attentes des appels décrochés, de l'entrée dans le service au décroché (pour "
        "le total : depuis la première entrée dans les heures d'ouverture).",
        "seconds",
        better=-1,
    ),
    Term(
        "wait_percentiles.p50",
        "Attente médiane",
        "La moitié des appels décrochés ont attendu moins que cela.",
        "seconds",
        better=-1,
    ),
    Term(
        "wait_percentiles.p90",
        "Attente au 90e centile",
        "9 appels décrochés sur 10 ont attendu moins que cela.",
        "seconds",
        better=-1,
    ),
    # --- the voice menu and the callbacks -------------------------------------------------------
    Term(
        "ivr.calls",
        "Appels passés par le menu vocal",
        "Appels qui ont entendu au moins un menu vocal.",
        one="appel passé par le menu vocal",
        many="appels passés par le menu vocal",
    ),
    Term(
        "ivr.choices",
        "Choix",
        "Fois où une touche a été choisie dans un menu (ou le menu est resté sans choix, ou une "
        "touche invalide a été tapée).",
        one="choix",
        many="choix",
    ),
    Term(
        "callbacks.owed",
        "Rappels dus",
        "Demandes de rappel, et appels abandonnés ou débordés dont le numéro est connu, à "
        "rappeler.",
        one="rappel dû",
        many="rappels dus",
    ),
    Term(
        "callbacks.done",
        "Rappels faits",
        "Rappels dus qu'un agent a faits.",
        one="rappel fait",
        many="rappels faits",
        better=+1,
    ),
    Term(
        "callbacks.expired",
        "Rappels expirés",
        "Rappels dus non faits dans le délai (30 jours).",
        one="rappel expiré",
        many="rappels expirés",
        better=-1,
    ),
    Term(
        "callbacks.pending",
        "Rappels en attente",
        "Rappels dus pas encore faits.",
        one="rappel en attente",
        many="rappels en attente",
    ),
    Term(
        "callbacks.callback_rate",
        "Taux de rappel",
        "Rappels faits / rappels dus.",
        "rate",
        better=+1,
    ),
    Term(
        "callbacks.median_delay_s",
        "Délai médian de rappel",
        "Délai médian entre l'appel et le rappel fait.",
        "delay",
        better=-1,
    ),
    # --- the callers' satisfaction ---------------------------------------------------------------
    Term(
        "satisfaction.offered",
        "Enquêtes proposées",
        "Appelants qui ont entendu la proposition de répondre à l'enquête.",
        one="enquête proposée",
        many="enquêtes proposées",
    ),
    Term(
        "satisfaction.reached",
        "Enquêtes proposées puis décrochées",
        "Enquêtes proposées dont l'appel a été décroché (l'enquête suit la conversation).",
        one="enquête proposée puis décrochée",
        many="enquêtes proposées puis décrochées",
    ),
    Term(
        "satisfaction.responded",
        "Enquêtes répondues",
        "Enquêtes avec au moins une réponse valide.",
        one="enquête répondue",
        many="enquêtes répondues",
        better=+1,
    ),
    Term(
        "satisfaction.answers",
        "Réponses",
        "Réponses données aux questions (une touche valide).",
        one="réponse",
        many="réponses",
    ),
    Term(
        "satisfaction.response_rate",
        "Taux de réponse à l'enquête",
        "Enquêtes répondues / enquêtes proposées puis décrochées.",
        "rate",
        better=+1,
    ),
    Term(
        "satisfaction.mean_score",
        "Note moyenne (sur 5)",
        "Moyenne des réponses notées de 1 à 5.",
        "score",
        better=+1,
    ),
    Term(
        "satisfaction.share_satisfied",
        "Part de satisfaits",
        "Réponses 4 ou 5 (sur 5) ou « oui » / réponses dont l'échelle est connue.",
        "rate",
        better=+1,
    ),
    # --- staffing ---------------------------------------------------------------------------
    Term(
        "staffing.calls_per_hour",
        "Appels par heure",
        "Appels présentés au service dans le créneau, par heure, en moyenne sur les semaines où "
        "il est ouvert (débordements reçus et abandons courts exclus).",
        "per_hour",
    ),
    Term(
        "staffing.mean_handle_s",
        "Durée de traitement moyenne",
        "Durée moyenne d'un appel décroché, de la sonnerie à la fin de la conversation.",
        "seconds",
    ),
    Term(
        "staffing.mean_patience_s",
        "Patience moyenne",
        "Attente moyenne avant qu'un appelant raccroche, estimée sur les appels du service.",
        "seconds",
    ),
    Term(
        "staffing.agents_needed",
        "Agents nécessaires",
        "Le plus petit nombre d'agents avec lequel le créneau tient les objectifs du service.",
        "agents",
        one="agent nécessaire",
        many="agents nécessaires",
    ),
    Term(
        "staffing.agents_needed_erlang_c",
        "Agents nécessaires selon Erlang C (file, appelants patients)",
        "Agents nécessaires si les appelants attendaient tous sans raccrocher.",
        "agents",
    ),
    Term(
        "staffing.agents_observed",
        "Agents présents",
        "Agents dont le téléphone a sonné pour le service dans le créneau, en moyenne sur les "
        "jours où il a reçu des appels (un minimum).",
        "agents",
        one="agent présent",
        many="agents présents",
    ),
    Term(
        "staffing.expected_service_level",
        "Niveau de service attendu",
        "Niveau de service que le modèle attend avec les agents nécessaires.",
        "rate",
    ),
    Term(
        "staffing.expected_answer_rate",
        "Taux de décroché attendu",
        "Taux de décroché que le modèle attend avec les agents nécessaires.",
        "rate",
    ),
    Term(
        "staffing.agents_missing",
        "Agents manquants",
        "Agents nécessaires − agents présents, quand il en manque.",
        "agents",
        one="agent manquant",
        many="agents manquants",
    ),
    # --- per agent (each agent's phone: analytics.details.agent_figures) ----------------------
    Term(
        "agents.presented",
        "Appels présentés au poste",
        "Fois où le téléphone de l'agent a sonné (ou a été essayé) pour un appel ; un poste de "
        "plusieurs services compte les appels de tous ses services.",
        one="appel présenté au poste",
        many="appels présentés au poste",
    ),
    Term(
        "agents.answered",
        "Décrochés au poste",
        "Appels présentés au poste que l'agent a décrochés.",
        one="appel décroché au poste",
        many="appels décrochés au poste",
        better=+1,
    ),
    Term(
        "agents.missed",
        "Sans réponse",
        "Appels présentés au poste dont la sonnerie n'a pas été décrochée ou a été refusée.",
        one="appel sans réponse",
        many="appels sans réponse",
        better=-1,
    ),
    Term(
        "agents.busy",
        "Poste occupé",
        "Appels présentés au poste alors que l'agent était déjà en communication.",
        one="appel sur poste occupé",
        many="appels sur poste occupé",
    ),
    Term(
        "agents.unreachable",
        "Poste injoignable",
        "Appels présentés au poste alors qu'il n'était pas connecté.",
        one="appel sur poste injoignable",
        many="appels sur poste injoignable",
    ),
    Term(
        "agents.stopped",
        "Sonnerie arrêtée",
        "Appels présentés au poste dont la sonnerie s'est arrêtée parce qu'un collègue a décroché "
        "ou que l'appelant a raccroché ; avec les quatre précédents, ils font les appels "
        "présentés au poste.",
        one="sonnerie arrêtée",
        many="sonneries arrêtées",
    ),
    Term(
        "agents.mean_ring_answered_s",
        "Sonnerie avant décroché (moyenne)",
        "Durée moyenne de sonnerie du poste avant que l'agent décroche.",
        "seconds",
        better=-1,
    ),
    # --- the live view -------------------------------------------------------------------------
    Term(
        "live.waiting",
        "En attente",
        "Appelants dans un service, pas encore décrochés.",
        one="appel en attente",
        many="appels en attente",
    ),
    Term(
        "live.in_conversation",
        "En conversation",
        "Appelants en conversation avec un agent.",
        one="appel en conversation",
        many="appels en conversation",
    ),
    Term(
        "live.longest_wait_s",
        "Attente la plus longue",
        "Attente de l'appelant qui attend depuis le plus longtemps.",
        "seconds",
    ),
    Term(
        "live.agents_available",
        "Agents disponibles",
        "Agents connectés au service dont le téléphone est libre.",
        "agents",
        one="agent disponible",
        many="agents disponibles",
    ),
    Term(
        "live.in_ivr",
        "Dans le menu vocal",
        "Appelants en train d'écouter le menu vocal.",
        one="appel dans le menu vocal",
        many="appels dans le menu vocal",
    ),
)

GLOSSARY: Mapping[str, Term] = {term.key: term for term in TERMS}

# Words of the tables that name no indicator: what a row or column is about, and the columns of
# objectives and comparisons. A page may use these and the labels of TERMS, nothing else, as a
# column heading.
STRUCTURE: frozenset[str] = frozenset(
    {
        "Service",
        "Jour",
        "Mois",
        "Semaine",
        "Heure",
        "Créneau",
        "Indicateur",
        "Valeur",
        "Objectif",
        "Résultat",
        "Tendance",
        "Période précédente",
        "Mesure",
        "De",
        "Vers",
        "Appels",
        "Menu",
        "Touche",
        "Agent",
        "État",
        "Services",
        "Enregistré",
        "Règles actuelles (rejouées)",
        "Nouvelles règles",
        "Écart",
        "Engagement",
        "Question",
        "Date",
        "Fichier",
        "Statut",
        "Période",
        "Lancée le",
        "Par",
        "Règles proposées",
        # The action plan and the management review (issue 18).
        "N°",
        "Action",
        "Responsable",
        "Échéance",
        "S'applique à",
        "Adopté par (date, référence)",
        "Postes",
        "Horaires",
        # The live view's callers waiting in a queue, one row each (issue 16).
        "Position",
        "Dans la file depuis",
        "Attente dans le service",
    }
)


# --- the trend, in words -------------------------------------------------------------------------

TREND_WORDS = {
    "better": "s'améliore",
    "worse": "se dégrade",
    "stable": "stable",
    "incomplete": "période incomplète",
    "unknown": "pas de comparaison",
}
# A change smaller than this is "stable": rates in points, times in seconds, scores in points.
STABLE_BELOW: Mapping[Unit, float] = {
    "rate": 0.005,
    "seconds": 0.5,
    "delay": 60.0,
    "score": 0.05,
}


def stable_words(unit: Unit) -> str:
    """« écart de moins de 0,5 point »: the threshold under which a change is called stable."""
    threshold = STABLE_BELOW.get(unit)
    if threshold is None:
        return ""
    if unit == "rate":
        return f"écart de moins de {decimal(threshold * 100, 1)} point"
    if unit == "seconds":
        return f"écart de moins de {decimal(threshold, 1)}{NBSP}s"
    if unit == "delay":
        return f"écart de moins de {delay(threshold)}"
    return f"écart de moins de {decimal(threshold, 2)} point"


# --- numbers as a French reader writes them ------------------------------------------------------

NARROW_NBSP = "\u202f"  # the thousands separator of French typography
NBSP = "\u00a0"  # between a number and its unit: « 85,0 % » never breaks across lines


def reading_order(text: str) -> str:
    """A sort key in French reading order: accents and case do not move a name (« État
    civil » among the E, not after « Urbanisme »)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def by_name(names: Mapping[str, str]) -> Callable[[str], tuple[str, str]]:
    """The sort key of services (by id) wherever a list of them is shown: their names in French
    reading order, a service the rules no longer name by its id, two of one name by id."""
    return lambda service: (reading_order(names.get(service, service)), service)


def decimal(value: float | None, digits: int = 1) -> str:
    """12,8 ; no useless zeros after the comma (« 0,5 », « 3 »)."""
    if value is None:
        return "—"
    text = f"{value:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return _group(text).replace(".", ",")


def number(value: float | None) -> str:
    """A count: 1 234 (narrow no-break space); a non-integer with one decimal, 12,5."""
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}".replace(".", ",")
    return _group(str(int(value)))


def _group(text: str) -> str:
    sign = "-" if text.startswith("-") else ""
    whole, dot, fraction = text.lstrip("-").partition(".")
    grouped = f"{int(whole):,}".replace(",", NARROW_NBSP) if whole else whole
    return sign + grouped + dot + fraction


def percent(value: float | None, digits: int = 1) -> str:
    """86,1 % (a fraction in, one decimal out)."""
    if value is None:
        return "—"
    return f"{value * 100:.{digits}f}{NBSP}%".replace(".", ",")


def seconds(value: float | None) -> str:
    """12,8 s."""
    return "—" if value is None else f"{value:.1f}{NBSP}s".replace(".", ",")


def delay(value: float | None) -> str:
    """A delay as a person says it: « 2 h 05 min », « 12 min », « 45 s »."""
    if value is None:
        return "—"
    if value < 60:
        return f"{round(value)}{NBSP}s"
    minutes = round(value / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}{NBSP}h{NBSP}{minutes:02d}{NBSP}min" if hours else f"{minutes}{NBSP}min"


def points(value: float | None) -> str:
    """A difference of rates: +1,5 pt."""
    return "—" if value is None else f"{value * 100:+.1f}{NBSP}pt".replace(".", ",")


def value(key: str, figure: float | None) -> str:
    """A figure of ``key`` with its unit, once: « 86,1 % », « 12,8 s », « 1 234 »."""
    unit = unit_of(key)
    if unit == "rate":
        return percent(figure)
    if unit == "seconds":
        return seconds(figure)
    if unit == "delay":
        return delay(figure)
    if unit == "score":
        return decimal(figure, 2)
    if unit in ("agents", "per_hour"):
        return decimal(figure, 1)
    return number(figure)


def unit_of(key: str) -> Unit:
    # A figure named without its object (an objective's ``share_satisfied``, ``callback_rate``)
    # has the unit of the glossary's term under that object.
    for name in (key, f"satisfaction.{key}", f"callbacks.{key}"):
        term = GLOSSARY.get(name)
        if term is not None:
            return term.unit
    if key.endswith("_s"):
        return "seconds"
    if key.endswith("_rate") or key == "service_level":
        return "rate"
    return "count"


def count(key: str, n: int, engagement: str | None = None) -> str:
    """« 1 appel présenté », « 12 appels présentés », in the glossary's words."""
    term = GLOSSARY[key]
    return counted(n, fill(term.one, engagement), fill(term.many, engagement))


def label(key: str, engagement: str | None = None) -> str:
    """The glossary's words for ``key`` (``engagement``: « en 5 sonneries »...)."""
    return GLOSSARY[key].words(engagement)


def labels(keys: Iterable[str], engagement: str | None = None) -> list[str]:
    return [label(key, engagement) for key in keys]


def is_term(text: str) -> bool:
    """``text`` is the label of an indicator of the glossary."""
    return any(term.matches(text) for term in TERMS)


def markdown_table() -> str:
    """The glossary as ``docs/indicateurs.md`` shows it (a test keeps them equal)."""
    lines = ["| terme | définition | clé JSON |", "|---|---|---|"]
    for term in TERMS:
        words = term.label.replace("{engagement}", "en N sonneries / avant la Ne sonnerie")
        definition = term.definition.replace("{engagement}", "dans l'engagement du service")
        lines.append(f"| {words} | {definition} | `{term.key}` |")
    return "\n".join(lines)
