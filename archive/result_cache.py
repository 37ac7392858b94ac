"""Recent search results of one process, each valid until the archive's next write.

Readers repeat one another: the same words, one member's open notices, the first page of a
popular search. Every write transaction moves ``search_state`` to a new ``seq``
(``archive.search_index.next_seq``: notices, assessments and re-indexed documents alike), and
a rebuilt index gets a new ``epoch``, so a result kept with the (epoch, seq) it was computed at
is exactly what the search would compute again while that state holds. The first read after a
write empties the cache. Only small pages are kept (an export's 500-hit pages would cost
memory and are not asked twice). A cached result is shared: callers read it, never change it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from archive.base import SearchQuery, SearchResult

State = tuple[str, int]


class ResultCache:
    def __init__(self, size: int = 512, max_hits: int = 50):
        self.size, self.max_hits = size, max_hits
        self._state: State | None = None
        self._results: OrderedDict[str, SearchResult] = OrderedDict()
        self._lock = threading.Lock()  # the web app searches from a thread pool

    @staticmethod
    def key(query: SearchQuery) -> str:
        return repr(query)  # a dataclass of strings, dates, numbers and lists of them: its repr is its value

    def get(self, state: State, query: SearchQuery) -> SearchResult | None:
        key = self.key(query)
        with self._lock:
            if state != self._state:
                self._state = state
                self._results.clear()
            result = self._results.get(key)
            if result is not None:
                self._results.move_to_end(key)
            return result

    def put(self, state: State, query: SearchQuery, result: SearchResult) -> None:
        if query.limit > self.max_hits:
            return
        with self._lock:
            if state != self._state:  # a write landed while this result was computed: it is already stale
                return
            self._results[self.key(query)] = result
            if len(self._results) > self.size:
                self._results.popitem(last=False)
