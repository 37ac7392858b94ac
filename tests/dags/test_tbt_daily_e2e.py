"""tbt_daily end to end: Airflow's ``dag.test()`` on a SQLite metadata database, the replay server and aiosmtpd.

Airflow runs in a subprocess with its own AIRFLOW_HOME; the replay server and
the SMTP server run here on 127.0.0.1, so the test sees every request and
message. The run is for 22 July 2025 (07:00 Asia/Shanghai), whose interval
holds the replay's notices of 21-22 July.
"""

from __future__ import annotations

import email
import socket
import textwrap
import threading

import pytest

from crawlers import replay
from tests.dags.conftest import DAGS, airflow_env, migrate, run_python
from tbtwatch.settings import load_settings

GROUP = "tbt-group@example.org"
EXPORTER = "exporter@example.com"

RUN = textwrap.dedent(f"""
    import json, pendulum
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder={str(DAGS)!r}).get_dag("tbt_daily")
    run = dag.test(logical_date=pendulum.datetime(2025, 7, 22, 7, tz="Asia/Shanghai"))
    states = {{f"{{ti.task_id}}[{{ti.map_index}}]": str(ti.state) for ti in run.get_task_instances()}}
    print(json.dumps({{"state": str(run.state), "tasks": states}}))
""")


class Inbox:
    """What the aiosmtpd server received: (envelope recipients, parsed message)."""

    def __init__(self):
        self.messages: list[tuple[list[str], email.message.Message]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller.port, inbox
    controller.stop()


@pytest.fixture
def replay_server():
    server = replay.ReplayServer().start()
    yield server
    server.stop()


@pytest.fixture
def world(tmp_path, smtp, replay_server):
    """Airflow's environment, pointed at the replay and SMTP servers, with one confirmed subscriber."""
    from alerts.rules import Rule
    from alerts.subscriptions import subscribe

    port, inbox = smtp
    env = airflow_env(tmp_path, TBTWATCH_CRAWL_BASE_URL=replay_server.url, TBTWATCH_SMTP_HOST="127.0.0.1",
                      TBTWATCH_SMTP_PORT=str(port), TBTWATCH_SMTP_SECURITY="none",
                      TBTWATCH_ALERTS_WORKING_GROUP=GROUP)
    settings = load_settings(environ=env)
    subscribe(settings, EXPORTER, Rule(areas=["TBT", "SPS"]), frequency="immediate", confirmed=True)
    migrate(env)
    return env, settings, inbox, replay_server


def _digest_html(settings) -> str:
    return (settings.home / "digests" / "digest-2025-07-22.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_daily_run_archives_alerts_and_digests_and_a_rerun_sends_nothing_new(world):
    from archive.sqlite_store import SqliteStore

    env, settings, inbox, _ = world
    first = run_python(RUN, env)
    assert first["state"] == "success", first
    crawls = [k for k in first["tasks"] if k.startswith("crawl[")]
    assert len(crawls) >= 2 and all(first["tasks"][k] == "success" for k in crawls)

    store = SqliteStore(settings.archive_db)
    stored = list(store.iter_notices())
    assert stored, "the crawl stored no notice"
    assert any(n.distribution_date and n.distribution_date.isoformat() in {"2025-07-21", "2025-07-22"}
               for n in stored)
    recipients = [r for rcpts, _ in inbox.messages for r in rcpts]
    assert GROUP in recipients, "the working group got no digest"
    assert EXPORTER in recipients, "the subscriber got no alert"
    digest = _digest_html(settings)
    warning = digest.split('class="warn"', 1)[1][:300] if 'class="warn"' in digest else ""
    assert not warning, f"the digest reports a failed source on a clean run: {warning}"
    sent_first = len(inbox.messages)

    second = run_python(RUN, env)
    assert second["state"] == "success", second
    assert len(inbox.messages) == sent_first, "a re-run of the same interval sent messages again"
    assert SqliteStore(settings.archive_db).count() == len(stored)


@pytest.mark.slow
def test_a_failing_source_does_not_stop_the_others_and_the_digest_names_it(world):
    from archive.sqlite_store import SqliteStore

    env, settings, inbox, server = world
    server.fault("/Tbt/TbtNotifyList", "500")  # the Wenzhou portal answers 500 to every request
    result = run_python(RUN, env)
    assert result["state"] == "success", result
    assert result["tasks"]["digest[-1]"] == "success"
    assert result["tasks"]["sources[-1]"] == "skipped", result  # the partial failure shows in the run
    stored = list(SqliteStore(settings.archive_db).iter_notices())
    assert stored, "the other sources' notices were not stored"
    assert not any(n.source == "cn_wzisps" for n in stored)
    digest = _digest_html(settings)
    warning = digest.split('class="warn"', 1)[1].split("</p>", 1)[0]
    assert "Wenzhou TBT/SPS early-warning platform" in warning and "cn_wzisps" not in warning  # by its title
    digests = [m for rcpts, m in inbox.messages if GROUP in rcpts]
    assert len(digests) == 1, "the working group should get exactly one digest"
    assert server.requests, "the replay server saw no request"


def test_a_run_in_which_every_source_failed_is_not_green(world):
    env, settings, inbox, server = world
    server.fault("/", "500")  # every request to the replay
    result = run_python(RUN, env)
    assert result["state"] == "failed", result
    assert result["tasks"]["digest[-1]"] == "success"  # the digest still says which sources failed
    assert result["tasks"]["sources[-1]"] == "failed"
