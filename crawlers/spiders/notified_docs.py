"""The notified documents: the draft regulations members attach to their notifications.

They live at ``members.wto.org/crnattachments/{yyyy}/{TBT|SPS}/{member}/{yy}_{nnnnn}_{nn}_{e|f|s|x}.pdf``
(``url_pattern`` in config/sources.yaml); ``DocumentSpider`` fetches each once, size-capped, and
keeps its text for search and for the classifier (``archive.documents``).
"""

from __future__ import annotations

from crawlers.base import DocumentSpider


class NotifiedDocsSpider(DocumentSpider):
    name = "notified_docs"
