"""Alerts: exporter subscriptions, email alerts, the working group's digest, reviews and reminders.

Everything that leaves the system goes through one persistent outbox
(``alerts.outbox``), which makes each (recipient, notice, message kind)
delivered at most once; ``alerts.run`` holds the entry points the DAG and the
CLI call.
"""
