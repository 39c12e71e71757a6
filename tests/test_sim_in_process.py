"""The simulated PBX's ARI REST called in-process answers exactly what it answers over HTTP:
same bodies, same statuses, same errors, same parameter merging."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from telephony.ari.client import AriClient
from telephony.ari.errors import AriHttpError
from telephony.ari.transport import basic_auth
from telephony.simulator.in_process import InProcessAri, InProcessTransport
from telephony.simulator.pbx import SimulatedPbx


@pytest.fixture
async def pbx() -> AsyncIterator[SimulatedPbx]:
    simulated = SimulatedPbx(app="decroche")
    await simulated.start(port=0)
    simulated.add_agent(endpoint="PJSIP/1101")
    try:
        yield simulated
    finally:
        await simulated.stop()


async def _over_http(
    pbx: SimulatedPbx, method: str, path: str, body: bytes | None = None
) -> tuple[int, bytes]:
    headers = {"Authorization": basic_auth("decroche", "decroche")}
    if body is not None:
        headers["Content-Type"] = "application/json"
    url = f"{pbx.url}/ari{path}"
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, data=body, headers=headers) as response,
    ):
        return response.status, await response.read()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/endpoints/PJSIP/1101"),  # found
        ("GET", "/endpoints/PJSIP/9999"),  # Asterisk's 404 body
        ("GET", "/nowhere"),  # Resource not found
        ("PUT", "/channels"),  # Invalid method
        ("GET", "/channels/absent"),  # Channel not found
        ("DELETE", "/playbacks/absent"),
        ("GET", "/deviceStates/Custom:a/b"),  # a device name may hold a slash
    ],
)
async def test_same_answer_in_process_as_over_http(
    pbx: SimulatedPbx, method: str, path: str
) -> None:
    direct = await InProcessAri(pbx).handle(method, path, {}, b"")
    assert direct == await _over_http(pbx, method, path)


async def test_body_parameters_and_variables_merge_as_over_http(pbx: SimulatedPbx) -> None:
    ari = InProcessAri(pbx)
    body = b'{"endpoint": "PJSIP/1101", "app": "decroche", "variables": {"X": 1}}'
    status, _ = await ari.handle("POST", "/channels/create", {}, body)
    assert status == 200
    assert (await ari.handle("POST", "/channels/create", {}, b"[1]"))[0] == 400
    assert (await _over_http(pbx, "POST", "/channels/create", b"[1]"))[0] == 400


async def test_client_over_the_in_process_transport_raises_the_same_errors(
    pbx: SimulatedPbx,
) -> None:
    client = AriClient(
        pbx.url, "decroche", "decroche", "decroche",
        transport=InProcessTransport(pbx, "decroche", "decroche"),
    )  # fmt: skip
    try:
        endpoints = await client.list_endpoints()
        assert [e.resource for e in endpoints] == ["1101"]
        with pytest.raises(AriHttpError) as raised:
            await client.hangup("absent")
        assert raised.value.status == 404 and "Channel not found" in str(raised.value)
    finally:
        await client.close()
