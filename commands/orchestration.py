"""What the Airflow DAGs share: schedules, task defaults, and settings from Airflow connections.

Kept out of the DAG files so they stay thin and out of ``commands.pipeline``
so the pipeline knows nothing about Airflow. Importing this module is cheap
(no Airflow, no database): DAG files import it at parse time; the functions
that talk to Airflow import it inside.

Settings inside a task: the ``TBTWATCH_*`` environment of the worker, then,
when defined, these Airflow objects on top (they win):

- connection ``tbtwatch_smtp``: host, port, login, password; extras
  ``security`` (starttls | ssl | none) and ``sender``;
- connection ``tbtwatch_elasticsearch``: ``http(s)://host:port``, login and
  password or extra ``api_key``, extra ``index``; selects the Elasticsearch backend;
- variable ``tbtwatch_home``: the data directory (archive, outbox, digests).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from typing import Any

from tbtwatch.settings import Settings, load_settings

log = logging.getLogger(__name__)

TIMEZONE = "Asia/Shanghai"
OWNER = "tbtwatch"
TAGS = ["tbtwatch"]
SMTP_CONN_ID = "tbtwatch_smtp"
ES_CONN_ID = "tbtwatch_elasticsearch"
HOME_VARIABLE = "tbtwatch_home"

# Every task retries with exponential backoff: 2, 4, 8 minutes, at most 30.
DEFAULT_ARGS: dict[str, Any] = {
    "owner": OWNER,
    "retries": 3,
    "retry_delay": dt.timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": dt.timedelta(minutes=30),
    "execution_timeout": dt.timedelta(hours=2),
}


def _connection(conn_id: str) -> Any | None:
    """An Airflow connection, or None when it is not defined (the environment then decides)."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return Connection.get(conn_id)
    except AirflowNotFoundException:
        return None


def _variable(key: str) -> str | None:
    from airflow.sdk import Variable

    return Variable.get(key, default=None)


def airflow_overrides(smtp: Any | None, es: Any | None, home: str | None) -> dict[str, str]:
    """``TBTWATCH_*`` values for what the Airflow connections and variable define."""
    env: dict[str, str] = {}
    if smtp is not None:
        extra = smtp.extra_dejson or {}
        env.update({"TBTWATCH_SMTP_HOST": smtp.host or "", "TBTWATCH_SMTP_USERNAME": smtp.login or "",
                    "TBTWATCH_SMTP_PASSWORD": smtp.password or ""})
        if smtp.port:
            env["TBTWATCH_SMTP_PORT"] = str(smtp.port)
        for key in ("security", "sender", "timeout"):
            if extra.get(key):
                env[f"TBTWATCH_SMTP_{key.upper()}"] = str(extra[key])
    if es is not None:
        extra = es.extra_dejson or {}
        scheme = es.conn_type if es.conn_type in {"http", "https"} else extra.get("scheme", "http")
        env.update({"TBTWATCH_ARCHIVE_BACKEND": "elasticsearch",
                    "TBTWATCH_ES_URL": f"{scheme}://{es.host}:{es.port or 9200}",
                    "TBTWATCH_ARCHIVE_ES_USERNAME": es.login or "", "TBTWATCH_ARCHIVE_ES_PASSWORD": es.password or ""})
        if extra.get("api_key"):
            env["TBTWATCH_ARCHIVE_ES_API_KEY"] = str(extra["api_key"])
        if extra.get("index"):
            env["TBTWATCH_ARCHIVE_ES_INDEX"] = str(extra["index"])
    if home:
        env["TBTWATCH_HOME"] = home
    return env


def task_settings() -> Settings:
    """The settings for a task: the environment with the Airflow connections/variable on top."""
    overrides = airflow_overrides(_connection(SMTP_CONN_ID), _connection(ES_CONN_ID), _variable(HOME_VARIABLE))
    if overrides:
        log.info("settings from Airflow: %s", ", ".join(sorted(k for k in overrides if "PASSWORD" not in k
                                                                 and "API_KEY" not in k)))
    return load_settings(environ={**os.environ, **overrides})


def run_days(context: dict[str, Any], today: str = "") -> tuple[dt.date, dt.date, dt.date]:
    """(day, since, until) of a run in Asia/Shanghai dates, from its data interval.

    A scheduled run at 07:00 on day D covers [D-1 07:00, D 07:00): it is D's
    run and crawls notices distributed on D-1 and D. A manual run without an
    interval is the run of the settings' day (``today``: ``[general] today``, as
    every command uses it) when one is set, else of the day it was triggered.
    """
    import pendulum

    tz = pendulum.timezone(TIMEZONE)
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if start is None or end is None:
        moment = context.get("logical_date") or context["run_after"]
        day = dt.date.fromisoformat(today) if today else pendulum.instance(moment).in_timezone(tz).date()
        return day, day - dt.timedelta(days=1), day
    end_day = pendulum.instance(end).in_timezone(tz).date()
    start_day = pendulum.instance(start).in_timezone(tz).date()
    return end_day, min(start_day, end_day - dt.timedelta(days=1)), end_day
