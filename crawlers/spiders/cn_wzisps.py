"""A Chinese provincial TBT/SPS early-warning platform: Chinese translations of notifications.

Detail pages are ``/Tbt/TbtNotifyDetail?gid=...`` and ``/Tbt/SpsNotifyDetail?gid=...`` with an
opaque token (``gid=Jljlak1gYOyK28cp831XPQ``, as on the real pages); their text carries the form's
fields 1-11 under numbered Chinese labels, which the form parser reads. The list page's markup is
unknown, so pages are found by these URL shapes alone. Pages may be GBK/GB18030 encoded;
``HtmlPageSpider.page_text`` copes with a missing or wrong declared charset.
"""

from __future__ import annotations

from crawlers.base import HtmlPageSpider


class CnWzispsSpider(HtmlPageSpider):
    name = "cn_wzisps"
    detail_pattern = r"^/Tbt/(?:Tbt|Sps)NotifyDetail\?gid=[\w-]+$"
    list_pattern = r"^/Tbt/TbtNotifyList\?page=\d+$"
