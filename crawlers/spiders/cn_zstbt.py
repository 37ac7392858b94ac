"""Another Chinese TBT portal (zstbt.net.cn): Chinese translations of notifications, one article per notice.

Articles live at ``/tbt/{yyyy-mm-dd}/{id}.html`` (the distribution day and a long number, as on the
real pages); the text is the WTO form laid out as a table (``|`` cells): the symbol, date and
document number in the heading cell, then one row per numbered field (``1. | 通报成员: ...``),
which the form parser reads. A second portal, so that one portal's change does not cut off the
Chinese translations.
"""

from __future__ import annotations

from crawlers.base import HtmlPageSpider


class CnZstbtSpider(HtmlPageSpider):
    name = "cn_zstbt"
    detail_pattern = r"^/tbt/\d{4}-\d{2}-\d{2}/\d+\.html$"
    list_pattern = r"^/tbt/(?:index_\d+\.html)?$"
