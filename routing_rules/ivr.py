"""The voice menu as a pure state machine.

The call flow starts a menu with :func:`ivr_start`, carries out the returned actions (play
prompts, wait for a key), and feeds back what happened with :func:`ivr_next`: a key pressed (at
any time: keys interrupt prompts), the end of the prompts, or the wait timing out. Each step
returns the next state (``None`` once the caller leaves the IVR), the actions, and notes the flow
turns into the call record's IVR events (their ``kind`` values are those of ``IvrEventKind``).

::

    start -> PLAYING --prompt finished--> WAITING --timeout--> (retry | fallback)
                |                            |
                +-------- key ---------------+--> repeat | go (menu, service, message, callback)
                                                   | invalid -> (retry | fallback)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from routing_rules.compiled import (
    CompiledRules,
    MenuRules,
    PlayMessage,
    TakeCallback,
    Target,
    ToMenu,
    ToService,
)
from routing_rules.errors import RoutingInputError, UnknownTarget


class Phase(StrEnum):
    PLAYING = "playing"
    WAITING = "waiting"


@dataclass(frozen=True, slots=True)
class IvrState:
    menu_id: str
    failures: int = 0  # invalid keys and timeouts in this menu so far
    phase: Phase = Phase.PLAYING


# --- inputs ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Key:
    digit: str


@dataclass(frozen=True, slots=True)
class PromptFinished:
    pass


@dataclass(frozen=True, slots=True)
class Timeout:
    pass


IvrInput = Key | PromptFinished | Timeout


# --- actions -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Play:
    """Play these prompts in order; a key interrupts them. Then send ``PromptFinished``."""

    prompt_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WaitForKey:
    """Wait up to ``timeout_s`` for a key; send ``Timeout`` if none."""

    timeout_s: float


@dataclass(frozen=True, slots=True)
class GoToService:
    service_id: str


@dataclass(frozen=True, slots=True)
class EndWithMessage:
    """Play the prompt, then hang up."""

    prompt_id: str


@dataclass(frozen=True, slots=True)
class StartCallback:
    callback: TakeCallback


IvrAction = Play | WaitForKey | GoToService | EndWithMessage | StartCallback


class NoteKind(StrEnum):
    MENU = "menu"
    KEY = "key"
    INVALID = "invalid"
    TIMEOUT = "timeout"
    FALLBACK = "fallback"


@dataclass(frozen=True, slots=True)
class IvrNote:
    kind: NoteKind
    menu_id: str
    key: str | None = None


@dataclass(frozen=True, slots=True)
class IvrStep:
    state: IvrState | None  # None: the caller has left the IVR (see the last action)
    actions: tuple[IvrAction, ...]
    notes: tuple[IvrNote, ...]
    why: str


def _menu(rules: CompiledRules, menu_id: str) -> MenuRules:
    menu = rules.menus.get(menu_id)
    if menu is None:
        raise UnknownTarget(f"unknown menu {menu_id!r} (rules {rules.version})")
    return menu


def ivr_start(rules: CompiledRules, menu_id: str, *, greet: bool = True) -> IvrStep:
    """A call enters the IVR at this menu: its greeting (if any, unless ``greet`` is false: a
    transferred leg), then its prompt."""
    return _enter(rules, menu_id, greet=greet)


def _enter(rules: CompiledRules, menu_id: str, *, greet: bool) -> IvrStep:
    menu = _menu(rules, menu_id)
    prompts = (menu.greeting, menu.prompt) if greet and menu.greeting else (menu.prompt,)
    return IvrStep(
        IvrState(menu_id),
        (Play(prompts),),
        (IvrNote(NoteKind.MENU, menu_id),),
        f"menu {menu_id}: plays {', '.join(prompts)}",
    )


def _go(rules: CompiledRules, target: Target, notes: tuple[IvrNote, ...], why: str) -> IvrStep:
    if isinstance(target, ToMenu):
        entered = _enter(rules, target.menu_id, greet=False)
        return IvrStep(
            entered.state, entered.actions, notes + entered.notes, f"{why}; {entered.why}"
        )
    action: IvrAction
    if isinstance(target, ToService):
        action = GoToService(target.service_id)
    elif isinstance(target, PlayMessage):
        action = EndWithMessage(target.prompt_id)
    else:
        action = StartCallback(target)
    return IvrStep(None, (action,), notes, why)


def _failure(
    rules: CompiledRules, menu: MenuRules, state: IvrState, note: IvrNote, prompt: str | None
) -> IvrStep:
    failures = state.failures + 1
    what = f"invalid key {note.key}" if note.kind is NoteKind.INVALID else "no key"
    if failures > menu.retries:
        notes = (note, IvrNote(NoteKind.FALLBACK, menu.id))
        why = (
            f"menu {menu.id}: {what}, {failures} failure(s) > {menu.retries} retries"
            f" -> fallback {menu.fallback.describe()}"
        )
        return _go(rules, menu.fallback, notes, why)
    prompts = (prompt, menu.prompt) if prompt else (menu.prompt,)
    return IvrStep(
        IvrState(menu.id, failures, Phase.PLAYING),
        (Play(prompts),),
        (note,),
        f"menu {menu.id}: {what} ({failures}/{menu.retries} retries) -> plays {', '.join(prompts)}",
    )


def ivr_next(rules: CompiledRules, state: IvrState, event: IvrInput) -> IvrStep:
    """The next step of the menu after a key, the end of the prompts, or a timeout."""
    menu = _menu(rules, state.menu_id)
    if isinstance(event, PromptFinished):
        if state.phase is Phase.WAITING:
            return IvrStep(state, (), (), f"menu {menu.id}: already waiting for a key")
        return IvrStep(
            IvrState(menu.id, state.failures, Phase.WAITING),
            (WaitForKey(menu.timeout_s),),
            (),
            f"menu {menu.id}: waits {menu.timeout_s:g} s for a key",
        )
    if isinstance(event, Timeout):
        if state.phase is Phase.PLAYING:
            # A timer from an earlier wait fired late, after a key restarted the prompts.
            return IvrStep(state, (), (), f"menu {menu.id}: stale timeout ignored")
        return _failure(rules, menu, state, IvrNote(NoteKind.TIMEOUT, menu.id), menu.timeout_prompt)
    digit = event.digit
    if len(digit) != 1 or digit not in "0123456789*#":
        raise RoutingInputError(f"« {digit} » n'est pas une touche du clavier (0 à 9, * ou #)")
    if digit == menu.repeat_key:
        return IvrStep(
            IvrState(menu.id, state.failures, Phase.PLAYING),
            (Play((menu.prompt,)),),
            (IvrNote(NoteKind.MENU, menu.id),),
            f"menu {menu.id}: repeat key {digit} -> plays {menu.prompt}",
        )
    target = menu.keys.get(digit)
    if target is None:
        return _failure(
            rules, menu, state, IvrNote(NoteKind.INVALID, menu.id, digit), menu.invalid_prompt
        )
    return _go(
        rules,
        target,
        (IvrNote(NoteKind.KEY, menu.id, digit),),
        f"menu {menu.id}: key {digit} -> {target.describe()}",
    )
