"""The IT page's what-if simulations: a form to launch one, its progress, its comparison."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from reports.web.app import DEPS, SESSION, WebDeps, render
from reports.whatif_view import comparison_view
from whatif.jobs import Job, JobState, WhatIfJobs, WhatIfRefused

_JOB_ID = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{6}$")
_FILES = {"resultat.json": ("result.json", "application/json"),
          "regles.yaml": ("rules.yaml", "application/yaml")}  # fmt: skip
TYPED = "texte saisi"


def _jobs(deps: WebDeps) -> WhatIfJobs | None:
    return deps.whatif


def _last_four_weeks(today: date) -> tuple[date, date]:
    # Recent calls, whole weeks (every weekday as often), today left out as it is not over.
    return today - timedelta(days=28), today - timedelta(days=1)


def _form_page(
    request: web.Request,
    *,
    errors: list[str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    deps = request.app[DEPS]
    jobs = _jobs(deps)
    start, end = _last_four_weeks(deps.today())
    current_text = ""
    if jobs is not None:
        try:
            current_text = jobs.current_rules.read_text(encoding="utf-8")
        except OSError:
            current_text = ""
    shown = {"from": start.isoformat(), "to": end.isoformat(), "rules_text": current_text}
    shown |= values or {}
    return render(
        request,
        "whatif.html",
        status=status,
        available=jobs is not None,
        jobs=jobs.jobs() if jobs is not None else [],
        running=jobs.running if jobs is not None else None,
        current_rules=str(jobs.current_rules) if jobs is not None else "",
        errors=errors or [],
        values=shown,
    )


async def whatif(request: web.Request) -> web.Response:
    return _form_page(request)


def _day(form: MultiDictProxy[Any], name: str, label: str, errors: list[str]) -> date | None:
    value = form.get(name)
    if not isinstance(value, str) or not value:
        errors.append(f"{label} : indiquez une date.")
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(f"{label} : « {value[:40]} » n'est pas une date (AAAA-MM-JJ).")
        return None


def _rules_text(form: MultiDictProxy[Any], errors: list[str]) -> tuple[str, str]:
    """The rules given: the uploaded file if any, else the typed text; and their name."""
    upload = form.get("rules_file")
    if isinstance(upload, web.FileField) and upload.filename:
        raw = upload.file.read()
        try:
            return raw.decode("utf-8"), upload.filename
        except UnicodeDecodeError:
            errors.append(f"Fichier {upload.filename} : ce n'est pas du texte UTF-8.")
            return "", upload.filename
    typed = form.get("rules_text")
    return (typed if isinstance(typed, str) else ""), TYPED


async def whatif_post(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    jobs = _jobs(deps)
    if jobs is None:
        raise web.HTTPNotFound(text="simulations non disponibles dans ce processus")
    form = await request.post()
    errors: list[str] = []
    start = _day(form, "from", "Début", errors)
    end = _day(form, "to", "Fin", errors)
    text, name = _rules_text(form, errors)
    values = {k: v for k in ("from", "to") if isinstance(v := form.get(k), str)}
    if name == TYPED:
        values["rules_text"] = text
    if not errors and start is not None and end is not None:
        try:
            job = await jobs.launch(start, end, text, name, request[SESSION].user.login, deps.now())
        except WhatIfRefused as exc:
            errors.append(str(exc))
        else:
            raise web.HTTPSeeOther(f"/systeme/et-si/{job.id}")
    return _form_page(request, errors=errors, values=values, status=400)


def _job(request: web.Request) -> tuple[WhatIfJobs, Job]:
    jobs = _jobs(request.app[DEPS])
    job_id = request.match_info["job"]
    job = jobs.job(job_id) if jobs is not None and _JOB_ID.match(job_id) else None
    if jobs is None or job is None:
        raise web.HTTPNotFound(text="simulation inconnue")
    return jobs, job


async def whatif_job(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    _, job = _job(request)
    view = None
    if job.state is JobState.DONE and job.result is not None:
        view = comparison_view(job.result, deps.names())
    return render(request, "whatif_job.html", job=job, view=view)


async def whatif_file(request: web.Request) -> web.StreamResponse:
    jobs, job = _job(request)
    stored, content_type = _FILES[request.match_info["file"]]
    path = jobs.directory / job.id / stored
    if not path.is_file():
        raise web.HTTPNotFound(text="fichier absent")
    download = f"et-si-{job.id}-{request.match_info['file']}"
    return web.Response(
        body=path.read_bytes(),
        content_type=content_type,
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{download}"'},
    )


def add_whatif_routes(app: web.Application) -> None:
    app.router.add_get("/systeme/et-si", whatif, name="whatif")
    app.router.add_post("/systeme/et-si", whatif_post, name="whatif_post")
    app.router.add_get("/systeme/et-si/{job}", whatif_job, name="whatif_job")
    files = "|".join(re.escape(f) for f in _FILES)
    app.router.add_get(f"/systeme/et-si/{{job}}/{{file:{files}}}", whatif_file, name="whatif_file")
