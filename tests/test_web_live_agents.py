"""The live view (server-sent events fed by a LiveFeed) and the agents' page."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime
from html import unescape
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from analytics import glossary
from decroche.testing import web_deps
from reports.errors import PresenceError
from reports.live import (
    AgentLive,
    AgentState,
    InMemoryLiveFeed,
    LiveSnapshot,
    QueuedLive,
    ServiceLive,
)
from reports.presence import InMemoryAgentPresence
from reports.web.app import WebDeps, create_app
from reports.web.callbacks import CALLBACK_KINDS_FR
from telephony.records.testing import fill, temporary_database, town_calls
from tests.test_web_app import NOW, csrf_of, sign_in


@pytest.fixture
def deps(tmp_path: Path) -> WebDeps:
    with temporary_database("sqlite", tmp_path) as database:
        store = fill(database, town_calls(date(2026, 10, 12), 5, 8))
        built = web_deps(database, store, now=NOW)
        built.sse_keepalive_s = 0.2
        yield built


@pytest.fixture
async def client(aiohttp_client, deps: WebDeps) -> TestClient:
    return await aiohttp_client(create_app(deps))


def snapshot(waiting: int) -> LiveSnapshot:
    return LiveSnapshot(
        at=datetime(2026, 10, 20, 8, 0, 5, tzinfo=UTC),
        in_ivr=3,
        services=(ServiceLive("ccas", waiting=waiting, in_conversation=2, longest_wait_s=41.5),),
        agents=(AgentLive("agent1", AgentState.IN_CALL, ("ccas",)),),
    )


async def read_event(stream, timeout: float = 3.0) -> str:
    """The next ``snapshot`` event's data, skipping keep-alive comments."""
    lines: list[str] = []
    async with asyncio.timeout(timeout):
        while True:
            line = (await stream.content.readline()).decode()
            if line == "\n":
                if any(x.startswith("event: snapshot") for x in lines):
                    return "\n".join(x[6:] for x in lines if x.startswith("data: "))
                lines = []
                continue
            lines.append(line.rstrip("\n"))


async def test_live_page_streams_each_published_snapshot(client: TestClient, deps: WebDeps) -> None:
    feed = deps.live
    assert isinstance(feed, InMemoryLiveFeed)
    await sign_in(client, "informatique")
    page = await (await client.get("/direct")).text()
    assert "Aucun état reçu du routeur" in page
    assert 'src="/static/live.js"' in page
    stream = await client.get("/direct/flux")
    assert stream.headers["Content-Type"].startswith("text/event-stream")
    feed.publish(snapshot(4))
    first = await read_event(stream)
    assert 'data-live="waiting">4<' in first
    assert 'data-live="in_ivr">3<' in first
    assert "en communication" in first
    assert "41,5\u00a0s" in first
    assert "10:00:05" in first  # local time, Europe/Paris (UTC+2 in October)
    feed.publish(snapshot(1))
    assert 'data-live="waiting">1<' in await read_event(stream)
    stream.close()
    page = await (await client.get("/direct")).text()
    assert 'data-live="waiting">1<' in page  # the page opens on the latest snapshot


async def test_stream_sends_keep_alives_while_nothing_happens(client: TestClient) -> None:
    await sign_in(client, "qualite")
    stream = await client.get("/direct/flux")
    async with asyncio.timeout(3):
        line = await stream.content.readline()
    assert line == b": keep-alive\n"
    stream.close()


async def test_feed_keeps_only_the_newest_snapshot_for_a_slow_subscriber() -> None:
    feed = InMemoryLiveFeed()
    feed.publish(snapshot(1))
    subscription = feed.subscribe()
    assert (await anext(subscription)).services[0].waiting == 1
    for waiting in (2, 3, 4):
        feed.publish(snapshot(waiting))
    assert (await anext(subscription)).services[0].waiting == 4
    assert feed.subscriber_count == 1
    await subscription.aclose()
    assert feed.subscriber_count == 0


async def test_in_memory_presence_rules() -> None:
    presence = InMemoryAgentPresence()
    allowed = frozenset({"ccas"})
    state = await presence.sign_in("a", "ccas", allowed)
    assert state.signed_in == {"ccas"}
    with pytest.raises(PresenceError, match="ne répond pas pour le service « police »"):
        await presence.sign_in("a", "police", allowed)
    assert (await presence.pause("a", "réunion")).paused
    with pytest.raises(PresenceError, match="motif de pause inconnu"):
        await presence.pause("a", "sieste")
    assert not (await presence.resume("a")).paused
    assert (await presence.sign_out("a", "ccas")).signed_in == frozenset()
    with pytest.raises(PresenceError, match="pas de pause possible"):
        await presence.pause("a")
    with pytest.raises(PresenceError, match="pas connecté au service"):
        await presence.sign_out("a", "ccas")


async def post_form(client: TestClient, path: str, **fields: str):
    page = await (await client.get("/agent")).text()
    return await client.post(path, data={"csrf": csrf_of(page), **fields}, allow_redirects=True)


async def test_agent_signs_in_and_out_of_own_services_and_pauses(
    client: TestClient, deps: WebDeps
) -> None:
    await sign_in(client, "agent1")
    html = await (
        await post_form(client, "/agent/presence", action="sign_in", service="ccas")
    ).text()
    assert "Connecté au service CCAS." in html
    assert 'data-presence="ccas">connecté<' in html
    assert (await deps.presence.state("agent1")).signed_in == {"ccas"}
    html = await (
        await post_form(client, "/agent/presence", action="sign_in", service="urbanisme")
    ).text()
    assert "Impossible" in html
    assert (await deps.presence.state("agent1")).signed_in == {"ccas"}
    html = await (await post_form(client, "/agent/presence", action="pause", reason="pause")).text()
    assert "en pause" in html
    assert (await deps.presence.state("agent1")).paused
    await post_form(client, "/agent/presence", action="resume")
    await post_form(client, "/agent/presence", action="sign_out", service="ccas")
    state = await deps.presence.state("agent1")
    assert state.signed_in == frozenset() and not state.paused
    response = await post_form(client, "/agent/presence", action="explode")
    assert response.status == 400


async def test_agent_sees_own_callbacks_and_marks_one_done(
    client: TestClient, deps: WebDeps
) -> None:
    mine = [c for s in ("ccas", "etat_civil") for c in deps.callbacks.pending_callbacks(s)]
    others = [
        c for c in deps.callbacks.pending_callbacks() if c.service_id not in ("ccas", "etat_civil")
    ]
    assert mine and others, "the generated calls must have callbacks on both sides"
    await sign_in(client, "agent1")
    html = await (await client.get("/agent")).text()
    shown = set(re.findall(r'name="call_id" value="([^"]+)"', html))
    assert shown == {c.call_id for c in mine}
    # Why each is to be called back, in French (never the records' own words).
    found = re.findall(r'</td><td>([^<]+)</td><td><a href="tel:', html)
    reasons = {unescape(reason) for reason in found}
    assert reasons and reasons <= set(CALLBACK_KINDS_FR.values())
    assert not shown & {c.call_id for c in others}
    target = mine[0]
    html = await (
        await post_form(
            client, "/agent/rappel", call_id=target.call_id, position=str(target.position)
        )
    ).text()
    assert "Rappel noté comme fait." in html
    assert target.call_id not in {c.call_id for c in deps.callbacks.pending_callbacks()}
    # Someone else's callback cannot be closed from this page, even by forging the form.
    stranger = others[0]
    html = await (
        await post_form(
            client, "/agent/rappel", call_id=stranger.call_id, position=str(stranger.position)
        )
    ).text()
    assert "plus en attente pour vos services" in html
    assert stranger in deps.callbacks.pending_callbacks()


async def test_agent_sees_calls_waiting_for_own_services(client: TestClient, deps: WebDeps) -> None:
    await sign_in(client, "agent1")
    html = await (await client.get("/agent")).text()
    assert "La vue en direct n'est pas disponible" in html
    deps.live.publish(snapshot(waiting=4))
    html = await (await client.get("/agent")).text()
    assert 'data-waiting="ccas">4<' in html
    assert "42 s" in html or "41 s" in html


def queue_snapshot() -> LiveSnapshot:
    """Two callers in the CCAS's queue, one in another service's an agent of the CCAS does not
    answer for."""
    since = datetime(2026, 10, 20, 7, 59, 20, tzinfo=UTC)
    return LiveSnapshot(
        at=datetime(2026, 10, 20, 8, 0, 5, tzinfo=UTC),
        services=(
            ServiceLive(
                "ccas",
                waiting=2,
                longest_wait_s=47.0,
                queued=(QueuedLive(1, since, 47.0), QueuedLive(2, since, 12.25)),
            ),
            ServiceLive("accueil", waiting=1, queued=(QueuedLive(1, since, 5.0),)),
            ServiceLive("etat_civil"),
        ),
    )


def queued_rows(html: str) -> list[tuple[str, ...]]:
    """The rows of the queues' table: (service, position, since, wait) as the page shows them."""
    table = html.split('data-table="live-queues"', 1)[1].split("</table>", 1)[0]
    rows = []
    for row in re.findall(r"<tr data-queued=[^>]*>(.*?)</tr>", table, re.S):
        rows.append(
            tuple(
                unescape(re.sub(r"<[^>]+>", "", c)).strip()
                for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
            )
        )
    return rows


async def test_the_live_view_lists_the_callers_in_each_queue_with_their_wait(
    client: TestClient, deps: WebDeps
) -> None:
    await sign_in(client, "informatique")
    page = await (await client.get("/direct")).text()
    stream = await client.get("/direct/flux")
    deps.live.publish(queue_snapshot())
    html = await read_event(stream)
    stream.close()
    assert "Aucun état reçu du routeur" in page  # nothing yet
    names = deps.names()
    # The services by name (« Accueil général » before « CCAS »), not in the snapshot's order.
    assert queued_rows(html) == [
        (names["accueil"], "1", "09:59:20", "5,0\u00a0s"),
        (names["ccas"], "1", "09:59:20", "47,0\u00a0s"),
        ("2", "09:59:20", "12,2\u00a0s"),
    ]
    services = re.findall(r'<tr data-service="([^"]+)">', html)
    assert services == sorted(services, key=glossary.by_name(names))


async def test_an_agent_sees_the_callers_queued_for_own_services_only(
    client: TestClient, deps: WebDeps
) -> None:
    await sign_in(client, "agent1")
    deps.live.publish(queue_snapshot())
    html = await (await client.get("/agent")).text()
    assert "Appelants en file d'attente pour mes services" in unescape(html)
    rows = queued_rows(html)
    assert [row[-1] for row in rows] == ["47,0\u00a0s", "12,2\u00a0s"]
    assert deps.names()["accueil"] not in html.split('data-table="live-queues"')[1]
    deps.live.publish(LiveSnapshot(at=NOW, services=(ServiceLive("ccas"),)))
    html = await (await client.get("/agent")).text()
    assert "Personne n'attend dans une file." in unescape(html)
