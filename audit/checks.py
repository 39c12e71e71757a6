"""One path judged (pure): the audit call against what the rules say for the same moment, and
the other moments of the coming months by simulation.

Checks of the audit call (« vérifié en appel réel »):

- ``destination``: decroche ended the call where the rules send it at that moment;
- ``messages``: the prompts heard, in order, are the ones the rules play on the way;
- ``lecture``: every prompt played to its end (a sound missing on the PBX fails its playback);
- ``delai``: the first prompt started soon enough after the call arrived;
- ``liberation``: the call ended, and no channel or bridge of it is left on the PBX.

Check of the menus' words (from the rules and the prompts' texts): ``annonce`` — each key of the
path leads where the menu's prompt says (« Pour le CCAS, tapez 1 »), and a key the menu does not
know is announced nowhere.

Check of the other moments (« vérifié par simulation »): ``simulation`` — every outcome of the
path over the coming months (holidays, lunch breaks, Saturdays…) reaches a destination, and
every prompt it would play, including where a call nobody answers goes, is a sound the PBX has.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from audit.expect import Expected, Variant
from audit.moments import when_fr
from audit.paths import AuditPath
from audit.results import CallObservation, Check, PathResult, VariantResult, Verdict
from routing_rules.compiled import CompiledRules, MenuRules, Target, ToMenu, ToService
from routing_rules.messages import agreeing, counted
from routing_rules.narration import menu_name
from routing_rules.routing import Reached, ReachedKind

CHECK_NAMES = {
    "annonce": "Touches annoncées par les menus",
    "destination": "Destination atteinte",
    "messages": "Messages entendus",
    "lecture": "Messages joués en entier",
    "delai": "Délai avant le premier message",
    "liberation": "Appel libéré proprement",
    "simulation": "Autres jours et heures (simulation)",
}


@dataclass(frozen=True, slots=True)
class CheckSettings:
    max_first_prompt_s: float = 2.0


def describe(value: str | Reached | None, names: Mapping[str, str]) -> str:
    """Where a call ended, in French (« Accueil général (sonnerait) », « message … »)."""
    reached = value if isinstance(value, Reached) or value is None else Reached.parse(value)
    if reached is None:
        return "aucune destination annoncée" if value is None else f"« {value} »"
    if reached.kind is ReachedKind.SERVICE:
        return names.get(reached.target, reached.target)
    if reached.kind is ReachedKind.MESSAGE:
        return f"message « {reached.target} »"
    return f"demande de rappel (« {reached.target} »)"


def _seconds(value: float) -> str:
    return f"{value:.1f} s".replace(".", ",")


def _check(code: str, ok: bool, detail: str) -> Check:
    return Check(code=code, name=CHECK_NAMES[code], ok=ok, detail=detail)


def judge_call(
    expected: Expected,
    call: CallObservation,
    settings: CheckSettings,
    names: Mapping[str, str],
) -> list[Check]:
    """The audit call's checks (see the module's text)."""
    checks = []
    wanted = describe(expected.reached, names)
    if call.reached == expected.reached.value:
        detail = wanted + (
            " : sonnerait maintenant" if expected.reached.kind is ReachedKind.SERVICE else ""
        )
        checks.append(_check("destination", True, detail))
    else:
        got = describe(call.reached, names)
        checks.append(_check("destination", False, f"attendu : {wanted} ; obtenu : {got}"))
    heard = tuple(h.prompt for h in call.heard)
    if heard[: len(expected.prompts)] == expected.prompts:
        checks.append(
            _check("messages", True, f"{counted(len(expected.prompts), 'message')}, dans l'ordre")
        )
    else:
        checks.append(
            _check(
                "messages",
                False,
                f"attendu : {', '.join(expected.prompts) or 'aucun'} ; "
                f"entendu : {', '.join(heard) or 'aucun'}",
            )
        )
    broken: dict[tuple[str, str], int] = {}
    for heard_prompt in call.heard:
        if heard_prompt.state != "done":
            key = (heard_prompt.prompt, heard_prompt.state)
            broken[key] = broken.get(key, 0) + 1
    if broken:
        said = " ; ".join(
            f"« {prompt} » "
            + ("n'a pas été joué (son absent du PBX ?)" if state == "failed" else "interrompu")
            + (f", {times} fois" if times > 1 else "")
            for (prompt, state), times in broken.items()
        )
        checks.append(_check("lecture", False, said))
    else:
        played = counted(len(call.heard), "message joué", "messages joués")
        checks.append(_check("lecture", True, f"{played} en entier"))
    first = call.first_prompt_s
    limit = settings.max_first_prompt_s
    if first is None:
        said = "aucun message sur ce parcours" if not expected.prompts else "aucun message entendu"
        checks.append(_check("delai", not expected.prompts, said))
    else:
        detail = f"{_seconds(first)} après l'arrivée de l'appel (au plus {_seconds(limit)})"
        checks.append(_check("delai", first <= limit, detail))
    if call.problem is not None:
        checks.append(_check("liberation", False, call.problem))
    elif call.leftovers:
        checks.append(
            _check("liberation", False, "resté sur le PBX : " + ", ".join(call.leftovers))
        )
    else:
        checks.append(_check("liberation", True, "aucun canal ni pont laissé"))
    return checks


def judge_variants(
    variants: Sequence[Variant],
    real: Expected | None,
    sounds: frozenset[str] | None,
    names: Mapping[str, str],
    failed: frozenset[str] = frozenset(),
) -> tuple[Check, list[VariantResult]]:
    """The other moments of the coming months: each outcome's sounds checked against the PBX's
    (``sounds``: the prompt ids it has; None: it listed none). The outcome the audit call lived
    has its prompts checked by playback; where it goes when nobody answers, by the list. A sound
    whose playback already ``failed`` in the call is shown in each outcome needing it, but
    fails the path once (as « lecture »), not twice."""
    results = []
    missing_all: list[str] = []
    for variant in variants:
        expected = variant.expected
        lived = real is not None and expected == real
        needed = (
            set(expected.after) | set(expected.unanswered_prompts) if lived else expected.sounds
        )
        missing = sorted(p for p in needed if sounds is not None and p not in sounds)
        missing_all += [p for p in missing if p not in missing_all]
        results.append(
            VariantResult(
                reached=expected.reached.value,
                prompts=expected.prompts,
                unanswered=tuple(r.value for r in expected.unanswered),
                when=tuple(when_fr(variant.moments)),
                real=lived,
                missing_sounds=tuple(missing),
            )
        )
    others = sum(1 for r in results if not r.real)
    missing_all = [p for p in missing_all if p not in failed]
    if missing_all:
        detail = agreeing(len(missing_all), "son absent du PBX", "sons absents du PBX")
        detail += " : " + ", ".join(f"« {p} »" for p in missing_all)
        return _check("simulation", False, detail), results
    detail = (
        f"{counted(others, 'autre issue', 'autres issues')} sur les 12 mois à venir, "
        f"{agreeing(others, 'vérifiée', 'vérifiées')} par simulation"
        if others
        else "aucune autre issue sur les 12 mois à venir"
    )
    if sounds is None:
        detail += " (sons non vérifiés : le PBX n'en liste aucun)"
    return _check("simulation", True, detail), results


def path_result(
    path: AuditPath,
    expected: Expected,
    checks: Sequence[Check],
    call: CallObservation | None,
    variants: Sequence[VariantResult],
) -> PathResult:
    return PathResult(
        path_id=path.id,
        label=path.label,
        dialled=path.dialled,
        keys=path.keys,
        kind=path.kind.value,
        verdict=Verdict.PASSED if all(c.ok for c in checks) else Verdict.FAILED,
        expected=expected.reached.value,
        checks=tuple(checks),
        call=call,
        variants=tuple(variants),
    )


# --- what the menus announce --------------------------------------------------------------------

_KEY_WORDS = {"étoile": "*", "etoile": "*", "dièse": "#", "diese": "#"}
_KEY = r"(?P<key>[0-9]|étoile|etoile|dièse|diese)"
_PRESS = r"(?:tapez|appuyez sur|faites le|composez le)"
_FOR_THEN_KEY = re.compile(rf"pour\s+(?P<what>[^.;:]+?)\s*,?\s*{_PRESS}\s+{_KEY}\b", re.I)
_KEY_THEN_FOR = re.compile(rf"{_PRESS}\s+{_KEY}\s+pour\s+(?P<what>[^.;:]+)", re.I)
_STOP_WORDS = frozenset(
    {"l", "le", "la", "les", "d", "de", "du", "des", "et", "avec", "au", "aux", "a", "un"}
    | {"une", "en", "pour", "votre", "vos", "notre", "nos"}
)


def announced_keys(text: str) -> dict[str, str]:
    """What a menu's prompt says each key is for: ``{"1": "le CCAS"}``."""
    found: dict[str, str] = {}
    for sentence in re.split(r"(?<=[.!?])\s+", " ".join(text.split())):
        for pattern in (_FOR_THEN_KEY, _KEY_THEN_FOR):
            match = pattern.search(sentence)
            if match:
                key = _KEY_WORDS.get(match["key"].lower(), match["key"])
                found.setdefault(key, match["what"].strip())
                break
    return found


def words(text: str) -> frozenset[str]:
    """The words that carry meaning, without accents or articles."""
    flat = unicodedata.normalize("NFD", text.lower())
    flat = "".join(c for c in flat if unicodedata.category(c) != "Mn")
    return frozenset(w for w in re.split(r"[^a-z0-9]+", flat) if w and w not in _STOP_WORDS)


def same_thing(announced: str, target: str) -> bool:
    """Whether an announcement (« l’accueil général ») names the target (« l’accueil général et
    l’état civil »): at least half of the shorter one's words are in the other."""
    a, b = words(announced), words(target)
    if not a or not b:
        return True  # nothing to compare: not a contradiction
    return len(a & b) * 2 >= min(len(a), len(b))


def judge_announcements(
    rules: CompiledRules, path: AuditPath, texts: Mapping[str, str], names: Mapping[str, str]
) -> Check:
    """Each key of the path does what the menu's prompt says it does (« Pour le CCAS, tapez
    1 »: key 1 must lead to the CCAS), and a key the menu does not know is not announced."""
    problems: list[str] = []
    notes: list[str] = []
    for menu_id, key in zip(path.menus, path.keys, strict=False):
        menu = rules.menus[menu_id]
        prompt = texts.get(menu.prompt)
        heard = _prompt_of(menu)
        if prompt is None:
            notes.append(f"texte de {heard} inconnu")
            continue
        said = announced_keys(prompt)
        target = menu.keys.get(key)
        key_fr = {"*": "étoile", "#": "dièse"}.get(key, key)
        if target is None:
            if key in said and key != menu.repeat_key:
                problems.append(
                    f"{heard} annonce la touche {key_fr} pour « {said[key]} », "
                    "que les règles ne connaissent pas"
                )
            continue
        if key not in said:
            notes.append(f"touche {key_fr} non annoncée par {heard}")
            continue
        label = _target_label(rules, target, texts, names)
        if label is not None and not same_thing(said[key], label):
            shown = label  # a menu without a name: the title its prompt starts with
            if isinstance(target, ToService):
                shown = names.get(target.service_id, label)
            elif isinstance(target, ToMenu) and rules.menus[target.menu_id].name:
                shown = menu_name(target.menu_id, rules)
            problems.append(
                f"{heard} annonce la touche {key_fr} pour « {said[key]} », elle mène à « {shown} »"
            )
    if problems:
        return _check("annonce", False, " ; ".join(problems))
    detail = "chaque touche mène à ce que le menu annonce"
    if not path.keys:
        detail = "aucune touche sur ce parcours"
    return _check("annonce", True, detail + (f" ({' ; '.join(notes)})" if notes else ""))


def _prompt_of(menu: MenuRules) -> str:
    """A menu's prompt as a finding names it: the message to correct, and the menu it is heard
    in when the rules name it (« « menu_principal » (Menu d’accueil) »)."""
    return f"« {menu.prompt} »" + (f" ({menu.name})" if menu.name else "")


def _target_label(
    rules: CompiledRules, target: Target, texts: Mapping[str, str], names: Mapping[str, str]
) -> str | None:
    """How a key's target is named: a service by its spoken name (or its name), a menu by the
    first sentence of its prompt when it is a title; None when there is nothing to compare."""
    if isinstance(target, ToService):
        service = rules.services.get(target.service_id)
        spoken = texts.get(service.name_prompt or "") if service is not None else None
        return spoken or names.get(target.service_id, target.service_id)
    if isinstance(target, ToMenu):
        menu = rules.menus.get(target.menu_id)
        text = texts.get(menu.prompt, "") if menu is not None else ""
        first = re.split(r"(?<=[.!?])\s+", " ".join(text.split()))[0] if text else ""
        return first if first and not announced_keys(first) else None
    return None
