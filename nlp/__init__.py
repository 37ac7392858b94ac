"""The NLP stage: classify notices against Shenzhen's export catalogue.

Public API (stable; other stages call it):

- ``load_catalogue(path=None) -> Catalogue`` (``.lines``: id, name_en, name_zh, hs, terms_en, terms_zh, weight)
- ``Classifier(catalogue)`` with ``.assess(notice, today=None)`` and ``.assess_many(notices, today=None)``
- ``assess(notice, catalogue, today=None)``
- ``Assessment.to_dict()``: the ``tbtwatch classify`` record

spaCy is imported only when the classifier is first used, so importing this
package (as the command line does) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nlp.assessment import Assessment, Evidence, LineMatch
from nlp.catalogue import Catalogue, CatalogueError, ProductLine, load_catalogue

if TYPE_CHECKING:
    from nlp.classifier import Classifier, assess

__all__ = ["Assessment", "Catalogue", "CatalogueError", "Classifier", "Evidence", "LineMatch", "ProductLine",
           "assess", "load_catalogue"]


def __getattr__(name: str) -> Any:
    if name in {"Classifier", "assess"}:
        from nlp import classifier

        return getattr(classifier, name)
    raise AttributeError(f"module 'nlp' has no attribute {name!r}")
