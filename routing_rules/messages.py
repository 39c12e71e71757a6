"""French words for the people who write decroche's YAML files (IT at the town hall).

Pydantic says what is wrong in English and in a programmer's terms ("String should match pattern
'^[a-z][a-z0-9_]*$'"). The rules file, the configuration and the prompt catalogue are written by
people who read French and do not read regular expressions: :func:`french` says the same thing
in their words, with the value they wrote. :func:`counted` writes "1 erreur", "3 erreurs": every
count a town-hall user reads, in every layer.
"""

from __future__ import annotations

import errno
from typing import Any

from pydantic_core import ErrorDetails

# The patterns of the models, said in words (a pattern not listed falls back to a generic line).
PATTERNS: dict[str, str] = {
    r"^[a-z][a-z0-9_]*$": (
        "un identifiant : lettres minuscules sans accent, chiffres et _, en commençant par une"
        " lettre (par exemple etat_civil)"
    ),
    r"^[A-Za-z][A-Za-z0-9_]*/[^\s/,]+$": (
        "un poste sous la forme TECHNOLOGIE/nom (par exemple PJSIP/1101)"
    ),
    r"^\d{1,2}:\d{2}-\d{1,2}:\d{2}$": "une plage horaire HH:MM-HH:MM (par exemple 08:30-12:00)",
    r"^\d{4}-\d{2}-\d{2}$": "une date AAAA-MM-JJ (par exemple 2026-12-24)",
    r"^\+?[0-9][0-9 .]{1,24}$": (
        "un numéro de téléphone (chiffres, espaces ou points, + au début permis)"
    ),
    r"^[A-Za-z0-9_-]+$": (
        "une classe de musique d’attente d’Asterisk (musiconhold.conf : lettres sans accent,"
        " chiffres, _ et -, par exemple default) ou ring pour la sonnerie"
    ),
    r"^[^\x00-\x1f\x7f]*$": "un texte sur une seule ligne, sans caractère de contrôle",
    # The configuration's audit section.
    r"^([01][0-9]|2[0-3]):[0-5][0-9]$": "une heure HH:MM (par exemple 02:30)",
    r"^[A-Za-z0-9_.-]{0,64}$": "un nom d’application ARI : lettres, chiffres, _, . et -",
    r"^[A-Za-z0-9_-]{1,80}$": "un nom de contexte du plan de numérotation (par exemple from-trunk)",
    r"^[0-9A-Za-z+]{1,32}$": "un numéro composé (chiffres, + au début permis) ou « standard »",
}


def agreeing(n: float, one: str, many: str | None = None) -> str:
    """The words that agree with ``n``: ``one`` for 0 and 1 (French: below 2), ``many`` otherwise;
    for a number written apart from its words, or a verb. ``many`` may be left out for one word
    whose plural takes an « s » (« appel », « conforme »); a phrase names its plural, every word
    of it agreeing (« action ouverte », « actions ouvertes »)."""
    if many is None:
        if " " in one:
            raise ValueError(f"the plural of the phrase {one!r} must be given")
        many = one + "s"
    return one if abs(n) < 2 else many


def counted(n: int, one: str, many: str | None = None, *, none: str | None = None) -> str:
    """A count and its words, as a French reader writes them: ``counted(1, "erreur")`` → "1
    erreur", ``counted(0, "erreur")`` → "0 erreur", ``counted(1234, "erreur")`` → "1 234 erreurs"
    (narrow no-break space between thousands). ``many`` agrees a whole phrase (``counted(n,
    "message n'a pas pu être fabriqué", "messages n'ont pas pu être fabriqués")``); ``none`` says
    zero in words (« aucune action ouverte »).

    The one function for every count a town-hall user reads (CLI, audit, pages, reports): it
    lives here, in the lowest package, so that every layer can use it."""
    if n == 0 and none is not None:
        return none
    return f"{n:,}".replace(",", "\u202f") + f" {agreeing(n, one, many)}"


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, int | float):
        return format(value, "g").replace(".", ",")
    return ""


def _quote_hint(value: Any, got: str) -> str:
    """YAML reads ``name: 12`` or ``name: true`` as a number or a yes/no: said how to write it
    as a text."""
    if isinstance(value, bool | int | float):
        return got[:-1] + " ; entre guillemets si c’est un texte)"
    return got


def french(error: ErrorDetails) -> str:
    """Pydantic's error in French, with the value written when it is a plain value."""
    kind, ctx = error["type"], error.get("ctx") or {}
    given = _shown(error.get("input"))
    got = f" (écrit : {given})" if given else ""
    expected = ctx.get("expected")
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        return f"il faut {PATTERNS.get(pattern, 'une valeur d’une autre forme')}{got}"
    messages = {
        "extra_forbidden": "clé inconnue (faute de frappe ?)",
        "missing": "valeur manquante",
        "int_parsing": f"nombre entier attendu{got}",
        "int_type": f"nombre entier attendu{got}",
        "int_from_float": f"nombre entier attendu, sans virgule{got}",
        "float_parsing": f"nombre attendu{got}",
        "float_type": f"nombre attendu{got}",
        "finite_number": f"nombre fini attendu{got}",
        "bool_parsing": f"true ou false attendu{got}",
        "bool_type": f"true ou false attendu{got}",
        "string_type": f"texte attendu{_quote_hint(error.get('input'), got)}",
        "string_too_short": "ne peut pas être vide",
        "string_too_long": f"{ctx.get('max_length')} caractères au plus{got}",
        "too_short": f"au moins {counted(int(ctx.get('min_length', 1)), 'élément')}",
        "too_long": f"au plus {counted(int(ctx.get('max_length', 0)), 'élément')}",
        "list_type": f"liste attendue (entre crochets ou en lignes commençant par « - »){got}",
        "tuple_type": f"liste attendue{got}",
        "set_type": f"liste attendue{got}",
        "dict_type": f"section attendue (des clés et leurs valeurs){got}",
        "model_type": f"section attendue (des clés et leurs valeurs){got}",
        "model_attributes_type": f"section attendue (des clés et leurs valeurs){got}",
        "path_type": f"chemin de fichier attendu{got}",
        "url_parsing": f"adresse (URL) attendue{got}",
        "url_scheme": f"adresse en {expected}{got}",
        "date_parsing": f"date AAAA-MM-JJ attendue{got}",
        "date_from_datetime_parsing": f"date AAAA-MM-JJ attendue{got}",
        "time_parsing": f"heure HH:MM attendue{got}",
        "greater_than": f"doit être supérieur à {_shown(ctx.get('gt'))}{got}",
        "greater_than_equal": f"doit être au moins {_shown(ctx.get('ge'))}{got}",
        "less_than": f"doit être inférieur à {_shown(ctx.get('lt'))}{got}",
        "less_than_equal": f"doit être au plus {_shown(ctx.get('le'))}{got}",
        "literal_error": f"valeur attendue : {_alternatives(expected)}{got}",
        "enum": f"valeur attendue : {_alternatives(expected)}{got}",
    }
    if kind in messages:
        return messages[kind]
    if kind in ("action_kind", "overflow_kind"):  # the models' own discriminators, in French
        return str(error["msg"])
    if kind in ("value_error", "assertion_error"):
        # Our own validators speak French already; pydantic prefixes "Value error, ".
        return str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return f"valeur refusée ({error['msg']}){got}"


def _alternatives(expected: Any) -> str:
    """Pydantic's "'mon', 'tue' or 'sun'" as "'mon', 'tue' ou 'sun'"."""
    text = str(expected or "")
    head, sep, last = text.rpartition(" or ")
    return f"{head} ou {last}" if sep else text


# ruamel.yaml's syntax problems, the usual ones said in words (the rest keep ruamel's wording).
_YAML_PROBLEMS: tuple[tuple[str, str], ...] = (
    (
        "mapping values are not allowed here",
        "« : » inattendu : un texte qui contient « : » s'écrit entre guillemets, ou la clé est"
        " mal indentée",
    ),
    (
        "that cannot start any token",
        "caractère interdit ici (une tabulation ? indentez avec des espaces)",
    ),
    (
        "expected <block end>",
        "indentation incohérente : la ligne n'est alignée sur aucune clé au-dessus",
    ),
    ("expected ',' or ']'", "crochet fermant « ] » manquant"),
    ("expected ',' or '}'", "accolade fermante « } » manquante"),
    ("found unexpected end of stream", "guillemet fermant manquant"),
    ("found undefined alias", "alias inconnu : aucune ancre & de ce nom plus haut"),
    (
        "found unknown escape character",
        "« \\ » inconnu dans un texte entre guillemets doubles (écrivez-le entre guillemets"
        " simples)",
    ),
    ("could not find expected ':'", "« : » manquant après la clé"),
)


def yaml_problem(problem: str | None, context: str | None = None) -> str:
    """ruamel.yaml's syntax error in French."""
    text = " ".join(p for p in (context, problem) if p)
    for english, words in _YAML_PROBLEMS:
        if english in text:
            return f"syntaxe YAML : {words}"
    return f"syntaxe YAML incorrecte ({text})"


_ERRNO_WORDS = {
    errno.ENOENT: "fichier introuvable",
    errno.EACCES: "accès refusé (droits du fichier)",
    errno.EPERM: "opération non permise",
    errno.EISDIR: "c'est un dossier, pas un fichier",
    errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
    errno.ENOSPC: "disque plein",
    errno.EROFS: "système de fichiers en lecture seule",
}


def os_reason(exc: OSError) -> str:
    """Why a file could not be read or written, in French."""
    return _ERRNO_WORDS.get(exc.errno or 0, exc.strerror or str(exc))
