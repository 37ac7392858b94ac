"""The trained heading model, kept on disk under the data directory and rebuilt when its inputs change.

Training reads the whole bilingual nomenclature (some 45,000 names) through the
tokenizer: seconds that every command, test and worker would pay at start. The
model is a pure function of its inputs, so it is saved once under a fingerprint of
them (the nomenclature files, the catalogue, the inference settings, the labelled
notices and the code that trains and scores) and loaded from there; a changed
input gives a new fingerprint. Being derived data, models live in the user's cache
folder (``TBTWATCH_CACHE``, else ``$XDG_CACHE_HOME/tbtwatch``, else ``~/.cache/tbtwatch``),
shared by every data directory; the few most recently used are kept.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path

from nlp.inferrer import HeadingModel

log = logging.getLogger(__name__)
PREFIX = "hs-headings-"
KEEP = 6  # models kept in the cache folder (several data directories may share it)
_CODE = (Path(__file__).with_name("inferrer.py"), Path(__file__).with_name("training.py"))


def cache_dir() -> Path:
    """Where trained models are kept (see the module docstring)."""
    if os.environ.get("TBTWATCH_CACHE"):
        return Path(os.environ["TBTWATCH_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tbtwatch"


def fingerprint(files: list[Path], *parts: str) -> str:
    """A short hash of the files' names, sizes and times, the training code and ``parts``."""
    digest = hashlib.sha256()
    for path in [*_CODE, *files]:
        stat = path.stat() if path.exists() else None
        digest.update(f"{path}:{stat.st_size if stat else -1}:{stat.st_mtime_ns if stat else -1}\n".encode())
    for code in _CODE:
        digest.update(code.read_bytes())
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:20]


def cached_model(folder: Path, key: str, build: Callable[[], HeadingModel]) -> HeadingModel:
    """The model saved under ``key`` in ``folder``, or a new one built, saved and returned.

    A file that cannot be read (cut short, an older format) is rebuilt, not an error;
    a folder that cannot be written only costs the saving.
    """
    path = folder / f"{PREFIX}{key}.pkl"
    if path.exists():
        try:
            with path.open("rb") as fh:
                model = pickle.load(fh)
            if isinstance(model, HeadingModel):
                os.utime(path)  # most recently used
                return model
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
            log.warning("heading model %s unreadable (%s): rebuilding it", path, exc)
    model = build()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=folder, prefix=".tmp-", delete=False) as fh:
            pickle.dump(model, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(fh.name, path)
        older = sorted(folder.glob(f"{PREFIX}*.pkl"), key=lambda p: p.stat().st_mtime, reverse=True)[KEEP:]
        for old in older:
            old.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("heading model not saved to %s (%s): it will be trained again next time", folder, exc)
    return model
