"""A Chinese provincial TBT/SPS early-warning platform: Chinese translations of notifications.

Detail pages (``/Tbt/TbtNotifyDetail?gid=...`` and ``/Tbt/SpsNotifyDetail?gid=...``)
carry the form's fields 1-11 under Chinese labels; the form parser reads them.
Pages may be GBK/GB18030 encoded; ``HtmlPageSpider.page_text`` copes with a
missing or wrong declared charset.
"""

from __future__ import annotations

from crawlers.base import HtmlPageSpider


class CnWzispsSpider(HtmlPageSpider):
    name = "cn_wzisps"
    detail_links = "a.notify-link"
    next_page = "a.next-page"
    content = "div.notify-detail"
