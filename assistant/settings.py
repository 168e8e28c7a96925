"""Runtime configuration, read once from the environment (prefix ``FLOWDRAFT_``) and ``.env``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

KNOWN_EMBEDDINGS = ("wordllama",)


class Settings(BaseSettings):
    """Every knob Flowdraft reads, with the embedded, no-setup defaults.

    Bad values fail at start-up with a message naming the variable, never later mid-turn.

    Example:
        >>> Settings(home="/tmp/fd").database_url
        'sqlite:////tmp/fd/flowdraft.db'
    """

    model_config = SettingsConfigDict(
        env_prefix="FLOWDRAFT_", env_file=".env", extra="ignore", populate_by_name=True
    )

    home: Path = Field(default=Path(".flowdraft"), description="Data directory.")
    database_url: str = Field(default="", description="Empty means SQLite inside home.")
    chroma_url: str = Field(default="", description="Empty means embedded Chroma in home.")
    model: str = Field(default="offline", description="'offline' or 'provider:model'.")
    embeddings: str = Field(default="wordllama")
    library: Path = Field(
        default=Path(__file__).resolve().parent.parent / "knowledge" / "library",
        description="Folder of the shipped knowledge library.",
    )
    collection: str = Field(default="flowdraft_library")
    ingest_max_mb: float = Field(default=5.0, gt=0, description="Largest file ingestion reads.")
    model_timeout: float = Field(default=30.0, gt=0)
    model_retries: int = Field(default=2, ge=0, le=10)
    policy: Path | None = Field(default=None, description="Policy YAML; empty = shipped default.")
    webhook_secret: str = Field(default="", description="HMAC key for webhook signatures.")
    slack_api_url: str = Field(default="https://slack.com/api/", description="Slack Web API base.")
    helpdesk_url: str = Field(
        default="", description="External helpdesk endpoint for replies to 'webhook' tickets."
    )
    connector_timeout: float = Field(default=10.0, gt=0)
    connector_attempts: int = Field(default=3, ge=1, le=10)
    audit_key: str = Field(
        default="",
        description="HMAC key of the audit chain; empty = the audit-key file in home. "
        "Replicas sharing one database must all set the same value.",
    )
    login_failures: int = Field(default=5, ge=1, description="Failed logins per user name.")
    login_address_failures: int = Field(
        default=20, ge=1, description="Failed logins per client address (offices share one)."
    )
    login_window: float = Field(default=900.0, gt=0, description="Seconds failures are counted.")
    login_lockout: float = Field(default=30.0, gt=0, description="First lockout, in seconds.")
    login_lockout_max: float = Field(default=3600.0, gt=0, description="Longest lockout.")

    timezone: str = Field(default="UTC", description="IANA zone schedules are read in.")
    public_url: str = Field(
        default="",
        description="Where people and systems reach this server (hook URLs); empty = "
        "http://127.0.0.1:8000, or the host and port `flowdraft serve` listens on.",
    )

    @property
    def base_url(self) -> str:
        """Return the server's public base URL, without a trailing slash."""
        return (self.public_url or "http://127.0.0.1:8000").rstrip("/")

    @field_validator("audit_key")
    @classmethod
    def _check_audit_key(cls, value: str) -> str:
        if value and len(value) < 32:
            raise ValueError(
                "FLOWDRAFT_AUDIT_KEY must be at least 32 characters, "
                "e.g. the output of 'openssl rand -hex 32'"
            )
        return value

    @field_validator("home", mode="after")
    @classmethod
    def _absolute_home(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("model")
    @classmethod
    def _check_model(cls, value: str) -> str:
        value = value.strip()
        if value != "offline" and ":" not in value:
            raise ValueError(
                "FLOWDRAFT_MODEL must be 'offline' or 'provider:model', "
                f"e.g. 'openai:gpt-4.1-mini' (got {value!r})"
            )
        return value

    @field_validator("embeddings")
    @classmethod
    def _check_embeddings(cls, value: str) -> str:
        if value not in KNOWN_EMBEDDINGS:
            raise ValueError(
                f"FLOWDRAFT_EMBEDDINGS={value!r} is not supported; choose one of {KNOWN_EMBEDDINGS}"
            )
        return value

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str) -> str:
        value = value.strip()
        scheme, _, rest = value.partition("://")
        if value and (scheme not in ("http", "https") or not rest):
            raise ValueError(
                f"FLOWDRAFT_PUBLIC_URL must be an http(s) URL like https://flowdraft.example "
                f"(got {value!r})"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value.strip())
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"FLOWDRAFT_TIMEZONE must be an IANA zone like 'Europe/Paris' (got {value!r})"
            ) from None
        return value.strip()

    @field_validator("chroma_url")
    @classmethod
    def _check_chroma_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError(f"FLOWDRAFT_CHROMA_URL must be an http(s) URL (got {value!r})")
        return value

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.home / 'flowdraft.db'}"
        return self

    @property
    def checkpoint_path(self) -> Path:
        """Return the SQLite file holding graph checkpoints."""
        return self.home / "checkpoints.db"

    @property
    def ingest_max_bytes(self) -> int:
        """Return the ingestion size limit in bytes."""
        return round(self.ingest_max_mb * 1024 * 1024)

    @property
    def chroma_path(self) -> Path:
        """Return the folder of the embedded Chroma store."""
        return self.home / "chroma"

    def ensure_home(self) -> Path:
        """Create the data directory on first use and return it."""
        self.home.mkdir(parents=True, exist_ok=True)
        return self.home


class ConnectorSettings(BaseSettings):
    """Credentials under their ecosystems' usual names; a connector without them is sandboxed."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    slack_bot_token: str = ""
    slack_signing_secret: str = ""
    slack_app_token: str = ""
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    smtp_from: str = "flowdraft@northwind.example"
    teams_webhook_url: str = Field(
        default="",
        description="A Teams channel's incoming webhook URL (https; its host allowed in policy).",
    )


class WebSettings(BaseSettings):
    """Who may call the server from a browser page of another origin (CORS)."""

    model_config = SettingsConfigDict(env_prefix="FLOWDRAFT_", env_file=".env", extra="ignore")

    allowed_origins: str = Field(
        default="",
        description="Comma-separated origins (https://desk.example) whose pages may call the "
        "server with the user's cookies. Empty: the server's own pages only.",
    )

    @field_validator("allowed_origins")
    @classmethod
    def _check_origins(cls, value: str) -> str:
        for origin in (o.strip() for o in value.split(",") if o.strip()):
            scheme, _, rest = origin.partition("://")
            if scheme not in ("http", "https") or not rest or "/" in rest or "*" in rest:
                raise ValueError(
                    "FLOWDRAFT_ALLOWED_ORIGINS takes origins like https://desk.example "
                    f"(scheme and host, no path or wildcard), not {origin!r}"
                )
        return value

    @property
    def origins(self) -> list[str]:
        """Return the allowed origins, one per entry."""
        return [o.strip() for o in self.allowed_origins.split(",") if o.strip()]


class TemporalSettings(BaseSettings):
    """Where runs execute: the embedded Temporal dev server, or a cluster / Temporal Cloud.

    ``FLOWDRAFT_TEMPORAL_ADDRESS`` empty means embedded: ``flowdraft serve`` starts the dev
    server on loopback with the pinned ports below and its database file in the home folder.
    """

    model_config = SettingsConfigDict(
        env_prefix="FLOWDRAFT_TEMPORAL_", env_file=".env", extra="ignore"
    )

    address: str = ""
    """``host:port`` of a Temporal frontend; empty = the embedded dev server."""
    namespace: str = "default"
    api_key: str = ""
    """Temporal Cloud API key (sent as a bearer token; implies TLS)."""
    tls_cert: Path | None = None
    """Client certificate (mTLS) for a cluster or Temporal Cloud."""
    tls_key: Path | None = None
    tls_ca: Path | None = None
    """CA bundle of the server, when it is not signed by a public CA."""
    task_queue: str = "flowdraft-runs"
    port: int = Field(default=7233, ge=1, le=65535)
    http_port: int = Field(default=7243, ge=1, le=65535)
    metrics_port: int = Field(default=7244, ge=1, le=65535)
    ui_port: int = Field(default=8233, ge=1, le=65535)
    ui: bool = True
    """Serve the embedded engine's web UI to operators (on loopback); false = headless."""
    enabled: bool = True
    """Run automations in ``flowdraft serve`` (the embedded engine or a client of the
    configured one, and an in-process worker); false = this server starts no engine."""

    @model_validator(mode="after")
    def _check_tls(self) -> TemporalSettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError(
                "FLOWDRAFT_TEMPORAL_TLS_CERT and FLOWDRAFT_TEMPORAL_TLS_KEY go together: "
                "set both for mTLS, or neither"
            )
        return self

    @property
    def embedded(self) -> bool:
        """Tell whether runs go to the dev server Flowdraft starts itself."""
        return not self.address

    @property
    def target(self) -> str:
        """Return the frontend address clients and workers connect to."""
        return self.address or f"127.0.0.1:{self.port}"
