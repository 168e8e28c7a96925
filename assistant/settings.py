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
