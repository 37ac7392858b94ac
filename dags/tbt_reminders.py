"""tbt_reminders: reminders of comment deadlines that are coming up, once a day.

Sent ``alerts.reminder_days`` days before each deadline (14 and 3 by default);
the outbox sends each reminder at most once, so a re-run sends nothing new.
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import CronTriggerTimetable, dag, get_current_context, task

from commands.orchestration import DEFAULT_ARGS, TAGS, TIMEZONE


@dag(
    dag_id="tbt_reminders",
    schedule=CronTriggerTimetable("0 8 * * *", timezone=TIMEZONE, interval=dt.timedelta(days=1)),
    start_date=pendulum.datetime(2025, 1, 1, tz=TIMEZONE),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "reminders"],
    doc_md=__doc__,
)
def tbt_reminders():
    @task
    def send_reminders() -> dict:
        from commands import orchestration, pipeline

        settings = orchestration.task_settings()
        day, _, _ = orchestration.run_days(get_current_context(), settings.general.today)
        return pipeline.send_reminders(settings, day).checked()

    send_reminders()


tbt_reminders()
