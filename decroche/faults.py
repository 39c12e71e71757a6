"""French words for what goes wrong at decroche's edges — the database, Asterisk — as the
town hall's IT reads them on /healthz, on the IT page and in the commands' error lines.

The drivers say it in English and with a traceback's worth of detail ("(psycopg.OperationalError)
connection failed: connection to server at ... (Background on this error at: ...)"). Here the
usual causes are named in French with what to check; anything else keeps the driver's first
line, in quotes: the system's own words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from routing_rules.messages import agreeing, counted

if TYPE_CHECKING:  # the writer brings SQLAlchemy: not for ``decroche rules check``
    from telephony.records.writer import WriterStatus

# (what the driver says, in lower case) -> what it means and what to check (no brackets: the
# reason is set in brackets in the health's sentences).
_DATABASE_CAUSES: tuple[tuple[str, str], ...] = (
    ("unable to create the database folder", "dossier de la base impossible à créer"),
    (
        "unable to open database file",
        "fichier de la base impossible à ouvrir, vérifiez son dossier et ses droits",
    ),
    (
        "readonly database",
        "base en lecture seule, vérifiez les droits du fichier et de son dossier",
    ),
    ("database or disk is full", "disque plein"),
    ("database is locked", "base verrouillée par un autre programme"),
    ("connection refused", "connexion refusée, le serveur PostgreSQL est-il démarré ?"),
    ("password authentication failed", "mot de passe refusé par PostgreSQL"),
    ("no password supplied", "mot de passe manquant pour PostgreSQL"),
    ('database "', "base inexistante sur le serveur PostgreSQL, voir storage.url"),
    ('role "', "utilisateur inexistant sur le serveur PostgreSQL, voir storage.url"),
    ("could not translate host name", "nom du serveur PostgreSQL inconnu"),
    ("name or service not known", "nom du serveur PostgreSQL inconnu"),
    ("timeout expired", "le serveur PostgreSQL ne répond pas, délai dépassé"),
    ("no space left on device", "disque plein"),
    ("permission denied", "accès refusé, vérifiez les droits"),
    ("read-only file system", "système de fichiers en lecture seule"),
)


def first_line(exc: BaseException) -> str:
    """The driver's own first words: the innermost cause's first line, without SQLAlchemy's
    "(Background on this error at ...)"."""
    inner: BaseException = exc
    while inner.__cause__ is not None:
        inner = inner.__cause__
    original = getattr(inner, "orig", None)
    text = str(original if original is not None else inner).strip()
    return text.splitlines()[0] if text else type(inner).__name__


def database_reason(exc: BaseException) -> str:
    """Why the database (or a file) cannot be used, in French (the driver's words, quoted, when
    the cause is not a usual one)."""
    chain = []
    inner: BaseException | None = exc
    while inner is not None:
        chain.append(str(inner))
        inner = inner.__cause__
    return database_reason_text(" ".join(chain), first_line(exc))


def database_reason_text(said: str, detail: str | None = None) -> str:
    """:func:`database_reason` of an error already turned into text (the writer's status)."""
    lowered = said.lower()
    for english, words in _DATABASE_CAUSES:
        if english in lowered:
            return words
    if detail is None:
        lines = said.split("(Background on this error")[0].strip().splitlines()
        detail = lines[0] if lines else said
    return f"« {detail} »"


def service_problems(
    *, ari_connected: bool, accepting_calls: bool, records: WriterStatus
) -> list[str]:
    """What is wrong with the running service now, one French sentence each (empty: all is
    well): what /healthz says, and why a monitor sees 503."""
    problems = []
    if not ari_connected:
        problems.append(
            "Asterisk n'est pas joint (ARI) : les appels vont au groupe de secours d'Asterisk"
        )
    if not accepting_calls:
        problems.append("arrêt en cours : les nouveaux appels vont au groupe de secours")
    return problems + records_problems(records)


def records_problems(records: WriterStatus) -> list[str]:
    """What keeps the call records from the database now, one French sentence each."""
    from telephony.records.writer import WriterState

    problems = []
    state = records.state
    why = f" ({database_reason_text(records.last_error)})" if records.last_error else ""
    if state is WriterState.STARTING:
        problems.append(f"base des appels pas encore jointe depuis le démarrage{why}")
    elif state is WriterState.JOURNALING:
        waiting = counted(records.journal_backlog, "enregistrement")
        problems.append(
            f"base des appels injoignable{why} : "
            + (
                f"{waiting} en attente dans le journal, "
                f"{agreeing(records.journal_backlog, 'écrit', 'écrits')} à son retour"
                if records.journal_backlog
                else "les appels sont notés dans le journal et écrits à son retour"
            )
        )
    elif state is WriterState.STOPPED:
        problems.append("enregistrement des appels arrêté")
    if records.held_in_memory:
        n = records.calls_in_memory
        why = f" ({database_reason_text(records.journal_error)})" if records.journal_error else ""
        problems.append(
            f"journal des appels impossible à écrire{why} : {counted(n, 'appel')} "
            f"{agreeing(n, 'gardé')} en mémoire seulement, {agreeing(n, 'perdu')} si le service "
            "s'arrête"
        )
    return problems
