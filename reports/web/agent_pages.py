"""The agents' page: sign in and out of their services, pause, the waiting calls, the callbacks
to make."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from analytics import glossary
from reports import format as fmt
from reports.agent_tables import own_figures_table
from reports.errors import InputError, PresenceError
from reports.periods import current_month
from reports.presence import PAUSE_REASONS_FR
from reports.web.app import DEPS, render
from reports.web.callbacks import CALLBACK_KINDS_FR, PendingCallback
from reports.web.common import _session, blocking


async def agent(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    user = _session(request).user
    state = await deps.presence.state(user.login)

    def pending() -> list[PendingCallback]:
        items: list[PendingCallback] = []
        for service_id in user.services:
            items += deps.callbacks.pending_callbacks(service_id)
        return sorted(items, key=lambda c: c.at)

    callbacks = await blocking(pending)
    phone = deps.agent_phones.get(user.login)
    own = None
    if phone is not None:
        month = current_month(deps.today())
        agents = await blocking(
            lambda: deps.indicators_for(month.start, month.end).agents(month.start, month.end)
        )
        own = own_figures_table(agents.get(phone), month.label_fr)
    names = deps.names()
    order = glossary.by_name(names)
    mine = sorted(user.services, key=order)
    snapshot = deps.live.latest()
    waiting = (
        sorted(
            (s for s in snapshot.services if s.service_id in user.services),
            key=lambda s: order(s.service_id),
        )
        if snapshot
        else None
    )
    return render(
        request,
        "agent.html",
        state=state,
        callbacks=callbacks,
        waiting=waiting,
        queued_services=waiting or (),
        queued_caption="Appelants en file d'attente pour mes services",
        seconds=fmt.seconds,
        names=names,
        services=mine,
        kinds=CALLBACK_KINDS_FR,
        reasons=PAUSE_REASONS_FR,
        message=request.query.get("message"),
        tz=deps.timezone,
        own=own,
        named=deps.name_agents,
    )


def _back(message: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther("/agent?" + urlencode({"message": message}))


async def agent_presence(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    user = _session(request).user
    form = await request.post()
    action, service_id, reason = form.get("action"), form.get("service"), form.get("reason")
    try:
        if action == "sign_in" and isinstance(service_id, str):
            await deps.presence.sign_in(user.login, service_id, frozenset(user.services))
            message = f"Connecté au service {deps.names().get(service_id, service_id)}."
        elif action == "sign_out" and isinstance(service_id, str):
            await deps.presence.sign_out(user.login, service_id)
            message = f"Déconnecté du service {deps.names().get(service_id, service_id)}."
        elif action == "pause":
            await deps.presence.pause(
                user.login, reason if isinstance(reason, str) and reason else None
            )
            message = "En pause : aucun appel ne vous sera présenté."
        elif action == "resume":
            await deps.presence.resume(user.login)
            message = "Fin de pause : les appels vous sont de nouveau présentés."
        else:
            raise InputError(f"action {action!r} inconnue")
    except PresenceError as exc:
        message = f"Impossible : {exc}"
    raise _back(message)


async def agent_callback(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    user = _session(request).user
    form = await request.post()
    call_id, position = form.get("call_id"), form.get("position")
    if not isinstance(call_id, str) or not isinstance(position, str) or not position.isdigit():
        raise InputError("rappel non précisé : rechargez la page")
    index = int(position)

    def mark() -> str:
        # An agent may only close callbacks of the services they answer for.
        mine = {
            (c.call_id, c.position)
            for service_id in user.services
            for c in deps.callbacks.pending_callbacks(service_id)
        }
        if (call_id, index) not in mine:
            return "Ce rappel n'est plus en attente pour vos services."
        if not deps.callbacks.mark_callback_done(call_id, index, by=user.login, at=deps.now()):
            return "Ce rappel a déjà été traité."
        return "Rappel noté comme fait."

    raise _back(await blocking(mark))
