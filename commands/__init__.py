"""commands: what runs the parts, the top floor above crawlers, nlp, archive and alerts.

The ``tbtwatch`` command line (``commands.cli``), the daily pipeline its
``daily``/``backfill`` commands and the Airflow DAGs run (``commands.pipeline``),
and what the DAGs share (``commands.orchestration``). The name says what the
package is for: each module here is something you command the system to do,
and it may import every part; nothing below it (the parts, the core
``tbtwatch``) imports it. Importing this package imports nothing: DAG files
import ``commands.orchestration`` at parse time and must stay cheap.
"""
