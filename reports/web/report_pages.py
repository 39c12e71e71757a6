"""The Rapports page's form: the quality lead makes the monthly report or the annual review of a
chosen period, then follows it on its own page (:mod:`reports.generation` makes it)."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from reports.errors import InputError, ReportsError
from reports.generation import ReportJob, ReportJobs
from reports.periods import Period, month_period, previous_month, year_period
from reports.web.app import DEPS, SESSION, WebDeps, render
from reports.web.figures import REPORT_FILE

_JOB_ID = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{6}$")


def _jobs(deps: WebDeps) -> ReportJobs:
    if deps.reports is None:
        raise web.HTTPNotFound(text="production des rapports non disponible dans ce processus")
    return deps.reports


def form_defaults(deps: WebDeps) -> dict[str, str]:
    """The form's values at first: last month, last year (the reports usually made)."""
    today = deps.today()
    return {
        "kind": "monthly",
        "mois": previous_month(today).month_key,
        "annee": str(today.year - 1),
    }


def _text(form: MultiDictProxy[Any], name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def requested(form: MultiDictProxy[Any]) -> tuple[str, Period]:
    """The kind and period asked for; :class:`InputError` (French, naming the field) if not."""
    kind = _text(form, "kind")
    if kind == "monthly":
        return kind, month_period(_text(form, "mois"), "Mois")
    if kind == "annual":
        return kind, year_period(_text(form, "annee"), "Année")
    raise InputError("Rapport : choisissez le bilan mensuel ou le bilan annuel")


async def report_make(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    jobs = _jobs(deps)
    form = await request.post()
    values = {k: _text(form, k) for k in ("kind", "mois", "annee")}
    try:
        kind, period = requested(form)
        if period.start > deps.today():
            raise InputError(f"{period.label_fr} n'a pas commencé : aucun appel à rapporter")
        job = jobs.launch(
            kind, period, request[SESSION].user.login, force=_text(form, "refaire") == "1"
        )
    except ReportsError as exc:
        return reports_page_of(request, errors=[str(exc)], values=values, status=400)
    raise web.HTTPSeeOther(f"/rapports/production/{job.id}")


def reports_page_of(
    request: web.Request,
    *,
    errors: list[str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    """The Rapports page: the form to make a report, those being made, the files made."""
    deps = request.app[DEPS]
    files: list[str] = []
    if deps.reports_dir is not None and deps.reports_dir.is_dir():
        files = sorted(
            (p.name for p in deps.reports_dir.iterdir() if REPORT_FILE.match(p.name)),
            reverse=True,
        )
    return render(
        request,
        "reports.html",
        status=status,
        files=files,
        configured=deps.reports_dir is not None,
        jobs=deps.reports.jobs() if deps.reports is not None else None,
        errors=errors or [],
        values=form_defaults(deps) | (values or {}),
    )


async def reports_page(request: web.Request) -> web.Response:
    return reports_page_of(request)


def _job(request: web.Request) -> ReportJob:
    jobs = _jobs(request.app[DEPS])
    job_id = request.match_info["job"]
    job = jobs.job(job_id) if _JOB_ID.match(job_id) else None
    if job is None:
        raise web.HTTPNotFound(text="production de rapport inconnue")
    return job


async def report_job(request: web.Request) -> web.Response:
    return render(request, "report_job.html", job=_job(request))


def add_report_routes(app: web.Application) -> None:
    app.router.add_post("/rapports/produire", report_make, name="report_make")
    app.router.add_get("/rapports/production/{job}", report_job, name="report_job")
