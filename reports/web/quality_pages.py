"""The quality lead's records: the action plan (« Plan d'actions ») and the management reviews
(« Revue de direction »: date, participants, approval, conclusions, revised objectives), with
their CSV/XLSX exports.

A form with a mistake comes back with what was typed and a message per field (nothing is lost);
a form sent from a page opened before someone else's change is refused the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from aiohttp import web

from analytics import glossary
from reports.actions import (
    ORIGIN_FR,
    STATUS_FR,
    Action,
    ActionBook,
    ActionStatus,
    FormProblems,
    Origin,
    StaleEdit,
    parse_action,
)
from reports.quality_tables import (
    actions_export,
    actions_table,
    objectives_revised_table,
    reviews_export,
)
from reports.quality_terms import INDICATOR_TERMS
from reports.reviews import Review, ReviewBook, parse_review, parse_revised_objective
from reports.tables import DataTable
from reports.web.app import DEPS, WebDeps, render
from reports.web.common import _session, blocking, table_response

_YEAR = re.compile(r"^\d{4}$")


def _actions(deps: WebDeps) -> ActionBook:
    if deps.actions is None:
        raise web.HTTPNotFound(text="plan d'actions non disponible dans ce processus")
    return deps.actions


def _reviews(deps: WebDeps) -> ReviewBook:
    if deps.reviews is None:
        raise web.HTTPNotFound(text="revues de direction non disponibles dans ce processus")
    return deps.reviews


async def _form(request: web.Request) -> dict[str, str]:
    data = await request.post()
    return {key: value for key, value in data.items() if isinstance(value, str)}


def _choices(deps: WebDeps) -> dict[str, Any]:
    names = deps.names()
    return {
        "services": [(s, names[s]) for s in sorted(names, key=glossary.by_name(names))],
        "indicators": [(key, term.label) for key, term in INDICATOR_TERMS.items()],
        "statuses": [(s.value, STATUS_FR[s]) for s in ActionStatus],
        "origins": [(o.value, ORIGIN_FR[o]) for o in Origin],
    }


def _action_form(action: Action | None) -> dict[str, str]:
    if action is None:
        return {"status": ActionStatus.PLANNED.value, "origin": Origin.MONTHLY.value}
    d = action.draft
    return {
        "title": d.title,
        "service": d.service or "",
        "indicator": d.indicator or "",
        "owner": d.owner,
        "due": d.due.isoformat(),
        "status": d.status.value,
        "result": d.result,
        "origin": d.origin.value,
        "review_year": "" if d.review_year is None else str(d.review_year),
        "revision": str(action.revision),
    }


# --- the action plan ------------------------------------------------------------------------


def _plan_page(
    request: web.Request,
    deps: WebDeps,
    *,
    everything: bool,
    form: Mapping[str, str] | None = None,
    problems: Mapping[str, str] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> web.Response:
    book = _actions(deps)
    today = deps.today()
    shown = book.all() if everything else book.open_on(today)
    table = actions_table(
        shown,
        deps.names(),
        name="plan-actions",
        caption="Toutes les actions" if everything else "Actions ouvertes aujourd'hui",
        on=today,
    )
    return render(
        request,
        "quality_actions.html",
        status=status,
        table=table,
        actions={a.id: a for a in shown},
        everything=everything,
        form=form or _action_form(None),
        problems=problems or {},
        notice=notice,
        today=today,
        **_choices(deps),
    )


async def plan(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    everything = request.query.get("etat") == "toutes"
    notice = {"1": "Action enregistrée."}.get(request.query.get("ok", ""))
    return await blocking(lambda: _plan_page(request, deps, everything=everything, notice=notice))


async def plan_add(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    form = await _form(request)
    user = _session(request).user.login

    def add() -> web.StreamResponse:
        try:
            draft = parse_action(form, services=deps.names())
        except FormProblems as exc:
            return _plan_page(
                request, deps, everything=False, form=form, problems=exc.problems, status=400
            )
        action = _actions(deps).add(draft, by=user, now=deps.now(), today=deps.today())
        raise web.HTTPSeeOther(f"/actions?ok=1#action-{action.id}")

    return await blocking(add)


def _action_id(request: web.Request) -> int:
    return int(request.match_info["action"])


def _action_page(
    request: web.Request,
    deps: WebDeps,
    action: Action,
    *,
    form: Mapping[str, str] | None = None,
    problems: Mapping[str, str] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> web.Response:
    return render(
        request,
        "quality_action.html",
        status=status,
        action=action,
        form=form or _action_form(action),
        problems=problems or {},
        notice=notice,
        names=deps.names(),
        **_choices(deps),
    )


async def action_page(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    action_id = _action_id(request)
    found = await blocking(lambda: _actions(deps).get(action_id))
    if found is None:
        raise web.HTTPNotFound(text=f"l'action n° {action_id} n'existe pas")
    notice = {"1": "Modifications enregistrées."}.get(request.query.get("ok", ""))
    return _action_page(request, deps, found, notice=notice)


async def action_post(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    action_id = _action_id(request)
    form = await _form(request)
    user = _session(request).user.login

    def change() -> web.StreamResponse:
        book = _actions(deps)
        current = book.get(action_id)
        if current is None:
            raise web.HTTPNotFound(text=f"l'action n° {action_id} n'existe pas")
        revision = form.get("revision", "")
        try:
            draft = parse_action(form, services=deps.names(), keep=current.draft)
            if not revision.isdigit():
                raise StaleEdit("formulaire incomplet : rechargez la page")
            book.change(
                action_id,
                draft,
                revision=int(revision),
                by=user,
                now=deps.now(),
                today=deps.today(),
            )
        except FormProblems as exc:
            return _action_page(
                request, deps, current, form=form, problems=exc.problems, status=400
            )
        except StaleEdit as exc:
            latest = book.get(action_id) or current
            kept = {**form, "revision": str(latest.revision)}
            return _action_page(
                request, deps, latest, form=kept, problems={"": str(exc)}, status=409
            )
        raise web.HTTPSeeOther(f"/actions/{action_id}?ok=1")

    return await blocking(change)


# --- the management reviews -----------------------------------------------------------------


def default_review_year(today: date) -> int:
    """The year a review looks back on: the last one, until the summer (reviews are held early
    in the year); the current one after."""
    return today.year - 1 if today.month <= 6 else today.year


async def reviews_page(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    chosen = request.query.get("annee", "")
    if chosen:
        if not _YEAR.match(chosen):
            raise web.HTTPBadRequest(text=f"année « {chosen} » invalide (AAAA)")
        raise web.HTTPSeeOther(f"/revue/{chosen}")
    reviews = await blocking(lambda: [_reviews(deps).get(y) for y in _reviews(deps).years()])
    return render(
        request,
        "quality_reviews.html",
        reviews=[r for r in reviews if r is not None],
        proposed=default_review_year(deps.today()),
    )


def _year(request: web.Request) -> int:
    year = int(request.match_info["year"])
    if not 2000 <= year <= 2100:
        raise web.HTTPNotFound(text=f"pas de revue pour l'année {year}")
    return year


def _review_form(review: Review | None, default_scope: str) -> dict[str, str]:
    if review is None:
        return {"scope": default_scope, "revision": "0"}
    d = review.draft
    return {
        "held_on": "" if d.held_on is None else d.held_on.isoformat(),
        "scope": d.scope,
        "participants": "\n".join(d.participants),
        "conclusions": d.conclusions,
        "approved_by": d.approved_by or "",
        "approved_on": "" if d.approved_on is None else d.approved_on.isoformat(),
        "revision": str(review.revision),
    }


def _review_page(
    request: web.Request,
    deps: WebDeps,
    year: int,
    *,
    form: Mapping[str, str] | None = None,
    problems: Mapping[str, str] | None = None,
    objective_form: Mapping[str, str] | None = None,
    objective_problems: Mapping[str, str] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> web.Response:
    book = _reviews(deps)
    review = book.get(year)
    names = deps.names()
    objectives = book.objectives(year)
    decided = [a for a in _actions(deps).of_year(year) if a.draft.review_year == year]
    default_scope = f"Accueil téléphonique de {deps.town}"
    return render(
        request,
        "quality_review.html",
        status=status,
        year=year,
        review=review,
        form=form or _review_form(review, default_scope),
        problems=problems or {},
        objective_form=objective_form or {},
        objective_problems=objective_problems or {},
        objectives=objectives,
        objectives_table=objectives_revised_table(
            objectives, names, name=f"objectifs-revises-{year}", caption="Objectifs révisés"
        ),
        decisions=actions_table(
            decided,
            names,
            name=f"decisions-{year}",
            caption=f"Actions décidées à la revue {year}",
            on=deps.today(),
        ),
        notice=notice,
        services_list=[names[s] for s in sorted(names, key=glossary.by_name(names))],
        **_choices(deps),
    )


async def review_page(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    year = _year(request)
    notice = {
        "1": "Revue enregistrée.",
        "2": "Objectif révisé ajouté.",
        "3": "Objectif révisé retiré.",
    }.get(request.query.get("ok", ""))
    return await blocking(lambda: _review_page(request, deps, year, notice=notice))


async def review_post(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    year = _year(request)
    form = await _form(request)
    user = _session(request).user.login

    def save() -> web.StreamResponse:
        book = _reviews(deps)
        revision = form.get("revision", "")
        try:
            draft = parse_review(form)
            if not revision.isdigit():
                raise StaleEdit("formulaire incomplet : rechargez la page")
            book.save(year, draft, revision=int(revision), by=user, now=deps.now())
        except FormProblems as exc:
            return _review_page(request, deps, year, form=form, problems=exc.problems, status=400)
        except StaleEdit as exc:
            latest = book.get(year)
            kept = {**form, "revision": str(latest.revision if latest else 0)}
            return _review_page(request, deps, year, form=kept, problems={"": str(exc)}, status=409)
        raise web.HTTPSeeOther(f"/revue/{year}?ok=1")

    return await blocking(save)


async def review_objective_add(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    year = _year(request)
    form = await _form(request)
    user = _session(request).user.login

    def add() -> web.StreamResponse:
        try:
            draft = parse_revised_objective(form, services=deps.names())
        except FormProblems as exc:
            return _review_page(
                request,
                deps,
                year,
                objective_form=form,
                objective_problems=exc.problems,
                status=400,
            )
        _reviews(deps).add_objective(year, draft, by=user, now=deps.now())
        raise web.HTTPSeeOther(f"/revue/{year}?ok=2#objectifs")

    return await blocking(add)


async def review_objective_remove(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    year = _year(request)
    objective_id = int(request.match_info["objective"])
    await blocking(lambda: _reviews(deps).remove_objective(year, objective_id))
    raise web.HTTPSeeOther(f"/revue/{year}?ok=3#objectifs")


# --- exports --------------------------------------------------------------------------------


async def actions_file(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    table = await blocking(lambda: actions_export(_actions(deps).all(), deps.names(), deps.today()))
    return await table_response(deps, table, request.match_info["fmt"], table.name)


async def reviews_file(request: web.Request) -> web.Response:
    deps = request.app[DEPS]

    def gather() -> DataTable:
        book = _reviews(deps)
        reviews = [book.get(year) for year in book.years()]
        return reviews_export([r for r in reviews if r is not None])

    table = await blocking(gather)
    return await table_response(deps, table, request.match_info["fmt"], table.name)


async def objectives_file(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    year = _year(request)
    table = await blocking(
        lambda: objectives_revised_table(
            _reviews(deps).objectives(year),
            deps.names(),
            name=f"objectifs-revises-{year}",
            caption=f"Objectifs révisés à la revue {year}",
        )
    )
    return await table_response(deps, table, request.match_info["fmt"], table.name)


def add_quality_routes(app: web.Application) -> None:
    app.router.add_get("/actions", plan, name="actions")
    app.router.add_post("/actions", plan_add, name="action_add")
    app.router.add_get("/actions/export.{fmt:csv|xlsx}", actions_file, name="actions_export")
    app.router.add_get(r"/actions/{action:\d{1,9}}", action_page, name="action")
    app.router.add_post(r"/actions/{action:\d{1,9}}", action_post, name="action_post")
    app.router.add_get("/revue", reviews_page, name="reviews")
    app.router.add_get("/revue/export.{fmt:csv|xlsx}", reviews_file, name="reviews_export")
    app.router.add_get(r"/revue/{year:\d{4}}", review_page, name="review")
    app.router.add_post(r"/revue/{year:\d{4}}", review_post, name="review_post")
    app.router.add_post(
        r"/revue/{year:\d{4}}/objectifs", review_objective_add, name="review_objective_add"
    )
    app.router.add_post(
        r"/revue/{year:\d{4}}/objectifs/{objective:\d{1,9}}/retirer",
        review_objective_remove,
        name="review_objective_remove",
    )
    app.router.add_get(
        r"/revue/{year:\d{4}}/objectifs.{fmt:csv|xlsx}", objectives_file, name="review_export"
    )
