"""The concurrency gate: at most ``web.concurrency`` requests in a worker at once, the rest in arrival order;
a slot is held while the app computes, not while the answer travels to the client, nor for background work,
and a failing request gives it back."""

from __future__ import annotations

import asyncio
import dataclasses

import httpx
import pytest
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.responses import PlainTextResponse, StreamingResponse
from starlette.routing import Route

from webapp.gate import ConcurrencyGate


def _recording_app(log: list[str], running: list[int]) -> Starlette:
    async def work(request):
        name = request.query_params["n"]
        running[0] += 1
        running[1] = max(running[1], running[0])
        log.append(f"start {name}")
        await asyncio.sleep(0.02)  # gives every other request the chance to get in
        log.append(f"end {name}")
        running[0] -= 1
        return PlainTextResponse(name)

    async def fail(request):
        raise RuntimeError("the app broke")

    return Starlette(routes=[Route("/work", work), Route("/fail", fail)])


def _gated(limit: int, **endpoints) -> ConcurrencyGate:
    """An app of one route per endpoint (``sign_up`` at ``/sign-up``) behind a gate of ``limit``."""
    routes = [Route("/" + name.replace("_", "-"), endpoint) for name, endpoint in endpoints.items()]
    return ConcurrencyGate(Starlette(routes=routes), limit=limit)


def _client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def _get_all(app, paths: list[str]) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        tasks = []
        for path in paths:  # started one after the other: that is their order of arrival
            tasks.append(asyncio.create_task(client.get(path)))
            await asyncio.sleep(0)
        return await asyncio.gather(*tasks)


def test_one_request_at_a_time_in_arrival_order():
    log, running = [], [0, 0]
    gated = ConcurrencyGate(_recording_app(log, running), limit=1)
    answers = asyncio.run(_get_all(gated, [f"/work?n={i}" for i in range(4)]))
    assert [a.text for a in answers] == ["0", "1", "2", "3"]
    assert log == [f"{step} {i}" for i in range(4) for step in ("start", "end")]
    assert running[1] == 1


def test_the_limit_is_how_many_run_at_once():
    log, running = [], [0, 0]
    answers = asyncio.run(_get_all(ConcurrencyGate(_recording_app(log, running), limit=2),
                                   [f"/work?n={i}" for i in range(6)]))
    assert all(a.status_code == 200 for a in answers)
    assert running[1] == 2
    running[1] = 0
    asyncio.run(_get_all(_recording_app(log, running), [f"/work?n={i}" for i in range(6)]))
    assert running[1] == 6  # without the gate all six overlap: the gate is what held them


def test_a_failing_request_gives_its_slot_back():
    log, running = [], [0, 0]
    answers = asyncio.run(_get_all(ConcurrencyGate(_recording_app(log, running), limit=1),
                                   ["/fail", "/work?n=after"]))
    assert [a.status_code for a in answers] == [500, 200]
    assert log == ["start after", "end after"]


def test_background_work_after_the_answer_does_not_hold_the_slot():
    async def scenario() -> tuple[str, bool]:
        started, release = asyncio.Event(), asyncio.Event()

        async def slow_delivery():  # an SMTP server taking its time after a sign-up's answer
            started.set()
            await release.wait()

        async def sign_up(request):
            return PlainTextResponse("signed up", background=BackgroundTask(slow_delivery))

        async def search(request):
            return PlainTextResponse("results")

        app = _gated(1, sign_up=sign_up, search=search)
        async with _client(app) as client:
            first = asyncio.create_task(client.get("/sign-up"))
            await asyncio.wait_for(started.wait(), 5)
            second = await asyncio.wait_for(client.get("/search"), 5)  # would wait forever were the slot held
            still_delivering = not first.done()
            release.set()
            await first
        return second.text, still_delivering

    assert asyncio.run(scenario()) == ("results", True)


def _scope(path: str) -> dict:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
            "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
            "headers": [], "server": ("test", 80), "client": ("203.0.113.9", 5000)}


def test_a_client_reading_slowly_holds_no_slot():
    async def scenario() -> tuple[str, list[bytes]]:
        async def rows():
            for part in (b"header\n", b"row 1\n", b"row 2\n"):
                yield part

        async def export(request):
            return StreamingResponse(rows(), media_type="text/csv")

        async def search(request):
            return PlainTextResponse("results")

        app = _gated(1, export=export, search=search)
        line_free, waiting, parts = asyncio.Event(), asyncio.Event(), []

        async def receive():
            await asyncio.Event().wait()  # the client sends nothing more (and never disconnects here)

        async def slow_client(message):  # takes the first part, then stalls until the line is free again
            if message["type"] == "http.response.body" and message.get("body"):
                parts.append(message["body"])
                waiting.set()
                await line_free.wait()

        first = asyncio.create_task(app(_scope("/export"), receive, slow_client))
        await asyncio.wait_for(waiting.wait(), 5)
        async with _client(app) as client:
            second = await asyncio.wait_for(client.get("/search"), 5)  # would wait for the slow client
        line_free.set()
        await asyncio.wait_for(first, 5)
        return second.text, parts

    assert asyncio.run(scenario()) == ("results", [b"header\n", b"row 1\n", b"row 2\n"])


def test_a_streamed_answer_read_at_once_keeps_its_slot_between_parts():
    async def scenario() -> list[str]:
        log: list[str] = []
        first_part_out = asyncio.Event()

        async def rows():
            for i in range(3):
                log.append(f"export part {i}")
                yield f"row {i}\n".encode()
                first_part_out.set()
                await asyncio.sleep(0.01)  # the next page is being read

        async def export(request):
            return StreamingResponse(rows(), media_type="text/csv")

        async def search(request):
            log.append("search")
            return PlainTextResponse("results")

        app = _gated(1, export=export, search=search)
        async with _client(app) as client:
            exporting = asyncio.create_task(client.get("/export"))
            await asyncio.wait_for(first_part_out.wait(), 5)
            await asyncio.wait_for(asyncio.gather(exporting, client.get("/search")), 5)
        return log

    assert asyncio.run(scenario()) == ["export part 0", "export part 1", "export part 2", "search"]


def test_a_limit_below_one_is_refused_by_its_setting_name():
    with pytest.raises(ValueError, match="web.concurrency is 0"):
        ConcurrencyGate(_recording_app([], [0, 0]), limit=0)


def test_the_app_is_gated_by_its_setting(web_settings):
    from webapp.app import create_app

    settings = dataclasses.replace(web_settings, web=dataclasses.replace(web_settings.web, concurrency=3))
    gates = [m for m in create_app(settings).user_middleware if m.cls is ConcurrencyGate]
    assert len(gates) == 1 and gates[0].kwargs == {"limit": 3}
