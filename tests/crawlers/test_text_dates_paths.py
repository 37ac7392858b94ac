"""A deadline stated only in the text reaches the archive on both ways in, and gets an internal cut-off.

The crawl: Scrapy (a subprocess) against the replay server, the WTO news feed's entry for
G/TBT/N/IND/330 ("comments are invited until ...") and, in a copy of the fixtures, a Chinese
portal page whose dates stand in its description. The import: ``tbtwatch import`` of our own
JSON Lines in both languages. Both into a real SQLite archive, read back with ``tbtwatch show``.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from alerts.cutoff import cutoff_for
from archive.query import build_query
from commands.cli import app
from crawlers.replay import ReplayServer
from tbtwatch.settings import get_settings

from .conftest import crawl, store

pytestmark = pytest.mark.slow
D = dt.date

KEN_PAGE = "wzisps.org.cn/Tbt/TbtNotifyDetail.tbt-ken-1850.html"


def shown(symbol: str) -> dict:
    result = CliRunner().invoke(app, ["show", symbol, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["notice"]


def test_a_crawl_reads_the_dates_a_feed_entry_and_a_portal_page_state(fresh_home, fixture_copy):
    page = fixture_copy / KEN_PAGE
    html = page.read_text(encoding="utf-8")
    form_deadline = "<p>10 提意见截止日期:2025/09/19</p>"
    assert form_deadline in html
    html = html.replace(form_deadline, "").replace(
        "儿童可触及的纽扣电池。</p>", "儿童可触及的纽扣电池。意见反馈截止日期为2025年9月26日，拟于2026年7月1日起实施。</p>")
    page.write_text(html, encoding="utf-8")
    with ReplayServer(root=fixture_copy) as server:
        report = crawl(server, "wto_news", "cn_wzisps")
    assert report.ok and report.errors == []

    india = shown("G/TBT/N/IND/330")  # only the feed has it: "comments are invited until 19 September 2025"
    assert india["comment_deadline"] == "2025-09-19" and india["dates_read_from_text"] == ["comment_deadline"]
    kenya = shown("G/TBT/N/KEN/1850")
    assert kenya["comment_deadline"] == "2025-09-26" and kenya["entry_into_force"] == "2026-07-01"
    assert set(kenya["dates_read_from_text"]) == {"comment_deadline", "entry_into_force"}
    usa = shown("G/TBT/N/USA/2210")  # the form's own deadline field: given, not read from the text
    assert usa["comment_deadline"] == "2025-09-19" and "comment_deadline" not in usa["dates_read_from_text"]

    stored = store().get("G/TBT/N/IND/330")
    assert cutoff_for(get_settings(), stored.comment_deadline) == D(2025, 9, 16)  # 3 working days before Fri 19
    still_open = store().search(build_query(open_on=D(2025, 9, 18), limit=100))
    assert "G/TBT/N/IND/330" in {hit.notice.symbol for hit in still_open.hits}


def test_import_reads_the_dates_of_notices_in_both_languages(home, tmp_path):
    lines = [
        {"symbol": "G/TBT/N/IND/9330", "member": "India", "distribution_date": "2025-07-21",
         "title": "Draft quality control order for USB Type-C chargers",
         "description": "Comments are invited until 19 September 2025. Proposed date of adoption: to be determined."},
        {"symbol": "G/TBT/N/VNM/9331", "member": "越南", "distribution_date": "2025-07-21", "language": "zh",
         "title": "移动电源国家技术法规草案",
         "description": "规定了移动电源的安全要求。评议截止日期：2025年9月26日；拟生效日期：2026年1月1日"},
        {"symbol": "G/TBT/N/EU/9332", "member": "European Union", "distribution_date": "2025-07-21",
         "comment_deadline": "2025-10-01", "title": "Draft regulation on toy safety",
         "description": "Comments are invited until 19 September 2025."},
        {"symbol": "G/TBT/N/EU/9100/Add.1", "member": "European Union", "distribution_date": "2025-07-21",
         "description": "The regulation notified in G/TBT/N/EU/9100 was adopted on 2 June 2025 and enters into "
                        "force on 1 December 2025."},
    ]
    source = tmp_path / "notices.jsonl"
    source.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    imported = CliRunner().invoke(app, ["import", str(source)])
    assert imported.exit_code == 0 and "4 new" in imported.output, imported.output

    india = shown("G/TBT/N/IND/9330")
    assert india["comment_deadline"] == "2025-09-19" and india["adoption_date"] == "to be determined"
    vietnam = shown("G/TBT/N/VNM/9331")
    assert vietnam["comment_deadline"] == "2025-09-26" and vietnam["entry_into_force"] == "2026-01-01"
    assert shown("G/TBT/N/EU/9332")["comment_deadline"] == "2025-10-01"  # the given field wins over the text

    archive = store()
    assert cutoff_for(get_settings(), archive.get("G/TBT/N/VNM/9331").comment_deadline) == D(2025, 9, 23)
    addendum = archive.get("G/TBT/N/EU/9100/Add.1")
    assert addendum.adoption_date == "2025-06-02" and addendum.compliance_date == D(2025, 12, 1)

    again = CliRunner().invoke(app, ["import", str(source)])  # text-read dates are stable: nothing changes
    assert "0 new, 0 updated, 4 unchanged" in " ".join(again.output.split()), again.output
