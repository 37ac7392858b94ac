"""One feed spider per ``kind: feed`` entry of config/sources.yaml, built when Scrapy loads the spiders.

Adding a feed needs only a sources.yaml entry: this module makes a ``FeedSpider``
subclass named after it, which Scrapy's spider loader then finds like any other.
"""

from __future__ import annotations

from crawlers.base import FeedSpider
from crawlers.sources import load_sources


def _feed_spiders() -> dict[str, type[FeedSpider]]:
    spiders = {}
    for name, source in load_sources().items():
        if source.kind == "feed":
            class_name = "".join(part.title() for part in name.split("_")) + "FeedSpider"
            spiders[class_name] = type(class_name, (FeedSpider,), {"name": name, "__module__": __name__})
    return spiders


globals().update(_feed_spiders())
