"""The IT page's audit of the paths: the last runs, a button to run one now, and each run's
results (the same views as the « audit interne » report)."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from reports.audit_view import path_row, run_view
from reports.web.app import DEPS, SESSION, render
from reports.web.audit_desk import AuditDesk
from reports.web.common import blocking

_RUN_ID = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{6}$")


def _desk(request: web.Request) -> AuditDesk:
    desk = request.app[DEPS].audit
    if desk is None:
        raise web.HTTPNotFound(text="audit non disponible dans ce processus")
    return desk


async def audit_page(request: web.Request) -> web.Response:
    desk = _desk(request)

    def gather() -> dict[str, Any]:
        wording = desk.wording()
        runs = [run_view(r, wording) for r in desk.runs(30)]
        running = desk.running()
        done = (
            [path_row(r, wording, running.started_at) for r in running.results] if running else []
        )
        return {"runs": runs, "running": running, "running_done": done}

    message = request.query.get("lance")
    notice = {"1": "Audit lancé : les résultats s'affichent ci-dessous au fil des appels.",
              "0": "Un audit est déjà en cours : attendez sa fin."}.get(message or "")  # fmt: skip
    return render(
        request, "audit.html", notice=notice, can_launch=desk.can_launch, **await blocking(gather)
    )


async def audit_post(request: web.Request) -> web.StreamResponse:
    desk = _desk(request)
    if not desk.can_launch:
        raise web.HTTPNotFound(text="les audits ne sont pas lancés par ce processus")
    started = desk.launch(request[SESSION].user.login)
    raise web.HTTPSeeOther(f"/systeme/audit?lance={1 if started else 0}")


async def audit_run(request: web.Request) -> web.Response:
    desk = _desk(request)
    run_id = request.match_info["run"]
    found = await blocking(lambda: desk.run(run_id)) if _RUN_ID.match(run_id) else None
    if found is None:
        raise web.HTTPNotFound(text="audit inconnu")
    view = await blocking(lambda: run_view(found, desk.wording(), desk.fixed_at))
    return render(request, "audit_run.html", run=view)


def add_audit_routes(app: web.Application) -> None:
    app.router.add_get("/systeme/audit", audit_page, name="audit")
    app.router.add_post("/systeme/audit", audit_post, name="audit_post")
    app.router.add_get("/systeme/audit/{run}", audit_run, name="audit_run")
