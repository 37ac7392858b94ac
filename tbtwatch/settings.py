"""Settings: ``config/settings.toml`` overridden by ``TBTWATCH_*`` environment variables.

Every value has a default here so an empty checkout runs (``make demo``); the TOML
file documents them for operators, and the environment wins so that Airflow,
docker-compose and tests can move state without editing files. An environment
variable is named ``TBTWATCH_<SECTION>_<KEY>`` (``TBTWATCH_SMTP_HOST``); the
data directory and the Elasticsearch URL also have the short names
``TBTWATCH_HOME`` and ``TBTWATCH_ES_URL``.

The data directory may hold its own ``settings.toml`` (written by ``tbtwatch
today``): it overrides the project file and is overridden by the environment, so
a data directory that acts as a past day (the demo's) says so once and every
command, the web app and the DAGs reading that directory agree.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from dataclasses import dataclass, field, fields, is_dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class SettingsError(ValueError):
    """A configuration file or variable that cannot be used; the message says which and how to fix it."""


@dataclass
class General:
    today: str = ""  # YYYY-MM-DD: the day every command, the web app and the DAGs act as; empty: the real date


@dataclass
class Paths:
    home: Path = Path("var")
    hs_nomenclature: Path = Path("../shared/data/hs/harmonized-system.csv")
    catalogue: Path = Path("config/catalogue/shenzhen.yaml")
    sources: Path = Path("config/sources.yaml")
    members: Path = Path("config/members.yaml")
    holidays: Path = Path("config/holidays.yaml")
    objectives: Path = Path("config/objectives.yaml")


@dataclass
class Archive:
    backend: str = "sqlite"
    es_url: str = ""
    es_index: str = "tbtwatch-notices"
    es_username: str = ""
    es_password: str = ""
    es_api_key: str = ""


@dataclass
class Smtp:
    host: str = ""
    port: int = 587
    security: str = "starttls"  # starttls | ssl | none
    username: str = ""
    password: str = ""
    sender: str = "tbtwatch <tbtwatch@localhost>"
    timeout: float = 20.0


@dataclass
class Alerts:
    secret: str = ""
    base_url: str = "http://127.0.0.1:8000"
    working_group: list[str] = field(default_factory=list)
    reminder_days: list[int] = field(default_factory=lambda: [14, 3])
    timezone: str = "Asia/Shanghai"
    cutoff_working_days: int = 3  # internal comment cut-off: working days before the final date
    enquiry_point: str = "中国WTO/TBT-SPS通报咨询中心 / China WTO/TBT-SPS Notification and Enquiry Center"
    enquiry_point_contact: str = ""  # where comments go: an e-mail address, phone or web form of the enquiry point
    webhooks_allow_private: bool = False  # loopback/private/plain-http endpoints: closed networks and tests only


@dataclass
class Analysis:
    # Members whose notifications are domestic measures, not foreign barriers: no export alert, not
    # queued for comment (China does not comment on its own government's drafts through the WTO).
    own_members: list[str] = field(default_factory=lambda: ["CHN"])


@dataclass
class Crawl:
    user_agent: str = "tbtwatch/0.1 (+https://github.com/tbtwatch/tbtwatch; WTO notification early warning)"
    base_url: str = ""  # when set, every source is read from here (the replay server)
    eping_api_key: str = ""


@dataclass
class Web:
    max_body_bytes: int = 1_048_576  # larger request bodies are refused with 413 before they are read
    # Requests one worker works on at once, the others waiting in arrival order (webapp/gate.py): 1 for the
    # SQLite archive, whose requests are all CPU; with Elasticsearch, the searches to run at once per worker.
    concurrency: int = 1


@dataclass
class Settings:
    general: General = field(default_factory=General)
    paths: Paths = field(default_factory=Paths)
    archive: Archive = field(default_factory=Archive)
    smtp: Smtp = field(default_factory=Smtp)
    alerts: Alerts = field(default_factory=Alerts)
    crawl: Crawl = field(default_factory=Crawl)
    analysis: Analysis = field(default_factory=Analysis)
    web: Web = field(default_factory=Web)
    source_file: Path | None = None
    _made: set[Path] = field(default_factory=set, init=False, repr=False, compare=False)  # see path()

    @property
    def home(self) -> Path:
        return self.paths.home

    def path(self, *parts: str) -> Path:
        """A path under the data directory, its folder created on demand (once: the web app asks for the
        archive's path several times per request)."""
        target = self.paths.home.joinpath(*parts)
        if target.parent not in self._made:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(target.parent)
        return target

    @property
    def archive_db(self) -> Path:
        return self.path("archive.sqlite3")

    @property
    def home_settings_file(self) -> Path:
        """The data directory's own settings (``[general] today`` of a data directory that acts as a past day)."""
        return self.paths.home / HOME_SETTINGS

    def today(self) -> dt.date:
        """The day the project acts as: ``[general] today`` when set, else the real date in the alerts' time zone
        (the working group's day, Asia/Shanghai by default), so a run at 01:00 in Shenzhen is for that day."""
        if self.general.today:
            return dt.date.fromisoformat(self.general.today)
        from zoneinfo import ZoneInfo

        return dt.datetime.now(ZoneInfo(self.alerts.timezone)).date()


HOME_SETTINGS = "settings.toml"
SECTIONS = ("general", "paths", "archive", "smtp", "alerts", "crawl", "analysis", "web")
_ALIASES = {"TBTWATCH_TODAY": ("general", "today"), "TBTWATCH_HOME": ("paths", "home"), "TBTWATCH_ES_URL": ("archive", "es_url"),
            "TBTWATCH_SECRET": ("alerts", "secret"), "TBTWATCH_EPING_API_KEY": ("crawl", "eping_api_key")}


def _coerce(value: Any, default: Any, where: str) -> Any:
    try:
        if isinstance(default, bool):
            if isinstance(value, str):
                return value.strip().lower() in {"1", "true", "yes", "on"}
            return bool(value)
        if isinstance(default, Path):
            return Path(value)
        if isinstance(default, int):
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError("a whole number is needed")
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, list):
            if isinstance(value, str):
                items = [v.strip() for v in value.split(",") if v.strip()]
            else:
                items = list(value)
            return [type(default[0])(v) for v in items] if default else [str(v) for v in items]
        return str(value)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"{where}: {value!r} is not a valid {type(default).__name__} ({exc})") from exc


def _apply(section: Any, values: dict[str, Any], where: str) -> None:
    known = {f.name for f in fields(section)}
    for key, value in values.items():
        if key not in known:
            raise SettingsError(f"{where}: unknown key {key!r}; known keys: {', '.join(sorted(known))}")
        setattr(section, key, _coerce(value, getattr(section, key), f"{where}.{key}"))


def _resolve(path: Path, base: Path) -> Path:
    path = path.expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: malformed TOML: {exc}. Fix that line (see config/settings.toml "
                            "in the repository for the expected form).") from exc


def _apply_file(settings: Settings, path: Path, data: dict[str, Any]) -> None:
    for name, values in data.items():
        section = getattr(settings, name, None) if name in SECTIONS else None
        if not is_dataclass(section) or not isinstance(values, dict):
            raise SettingsError(f"{path}: unknown section [{name}]; known sections: {', '.join(SECTIONS)}")
        _apply(section, values, f"{path} [{name}]")


def _apply_environment(settings: Settings, env: Mapping[str, str]) -> None:
    for name, value in env.items():
        if not name.startswith("TBTWATCH_") or name == "TBTWATCH_CONFIG":
            continue
        target = _ALIASES.get(name)
        if target is None:
            rest = name[len("TBTWATCH_"):].lower()
            section_name, _, key = rest.partition("_")
            section = getattr(settings, section_name, None) if section_name in SECTIONS else None
            if not is_dataclass(section) or key not in {f.name for f in fields(section)}:
                continue  # other tools' variables (TBTWATCH_ES_URL aliases etc.) share the prefix
            target = (section_name, key)
        section = getattr(settings, target[0])
        setattr(section, target[1], _coerce(value, getattr(section, target[1]), f"environment variable {name}"))
        if target[0] == "paths":
            setattr(section, target[1], _resolve(getattr(section, target[1]), Path.cwd()))


def _apply_home_file(settings: Settings) -> None:
    """The data directory's ``settings.toml``; it cannot move paths (they locate the directory itself)."""
    path = settings.home_settings_file
    if not path.is_file():
        return
    data = _read_toml(path)
    if "paths" in data:
        raise SettingsError(f"{path}: [paths] cannot be set in the data directory's own settings; "
                            "set them in config/settings.toml or the environment")
    _apply_file(settings, path, data)


def _check(settings: Settings) -> None:
    if settings.archive.backend not in {"sqlite", "elasticsearch"}:
        raise SettingsError(f"archive.backend is {settings.archive.backend!r}; use 'sqlite' or 'elasticsearch'")
    if settings.general.today:
        try:
            dt.date.fromisoformat(settings.general.today)
        except ValueError as exc:
            raise SettingsError(f"general.today is {settings.general.today!r}; write the day as YYYY-MM-DD "
                                "(TBTWATCH_TODAY, [general] today), or leave it empty for the real date") from exc


def load_settings(config_file: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read the project's TOML file (if any), the data directory's, then the environment; resolve relative paths.

    Paths from the file are relative to the project root; paths from the
    environment are relative to the current directory, as a shell user expects.
    The environment is applied twice: first to find the data directory
    (``TBTWATCH_HOME``), then again over the data directory's file, so it wins.
    """
    env = os.environ if environ is None else environ
    settings = Settings()
    chosen = env.get("TBTWATCH_CONFIG") or config_file
    config_file = Path(chosen or PROJECT_ROOT / "config" / "settings.toml")
    if chosen and not config_file.is_file():
        raise SettingsError(f"settings file {config_file} does not exist; fix the path "
                            f"({'TBTWATCH_CONFIG' if env.get('TBTWATCH_CONFIG') else 'config_file'}) or create it "
                            "from config/settings.toml")
    if config_file.exists():
        _apply_file(settings, config_file, _read_toml(config_file))
        settings.source_file = config_file
    for f in fields(settings.paths):
        setattr(settings.paths, f.name, _resolve(getattr(settings.paths, f.name), PROJECT_ROOT))
    _apply_environment(settings, env)
    _apply_home_file(settings)
    _apply_environment(settings, env)
    _check(settings)
    return settings


def set_home_today(settings: Settings, day: dt.date | None) -> Path:
    """Write (or, with ``None``, remove) ``[general] today`` in the data directory's settings file, keeping
    whatever else an operator wrote there; returns the file."""
    import tomlkit

    path = settings.home_settings_file
    document = tomlkit.parse(path.read_text(encoding="utf-8")) if path.is_file() else tomlkit.document()
    general = document.setdefault("general", tomlkit.table())
    if day is None:
        general.pop("today", None)
        if not general:
            document.pop("general")
    else:
        general["today"] = day.isoformat()
        general["today"].comment("the day this data directory acts as (tbtwatch today)")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomlkit.dumps(document), encoding="utf-8")
    return path


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once (tests call ``get_settings.cache_clear()`` after changing the env)."""
    return load_settings()
