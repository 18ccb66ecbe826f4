"""The SQL schema as SQLAlchemy Core tables, the one place queries take their column names from.

The schema itself is created and changed by the Alembic migrations in ``migrations/versions``; when you change
a table here, add a migration that makes the same change (``tests/adapters`` compares the two).
Enums are stored as their string values and times as timezone-aware UTC (see ``UtcDateTime``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

metadata = MetaData()

#: Width of ``datetime.isoformat(timespec="microseconds")`` for a UTC time: 2024-01-31T12:00:00.000000+00:00
_ISO_WIDTH = 32


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime: ``timestamptz`` on PostgreSQL, fixed-width ISO-8601 text on SQLite.

    The SQLite text always carries microseconds and ``+00:00``, so text order is time order. Binding a naive
    datetime raises ``ValueError`` (a bug on our side: the domain only uses aware times).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(_ISO_WIDTH))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware UTC datetime")
        value = value.astimezone(UTC)
        return value.isoformat(timespec="microseconds") if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            return datetime.fromisoformat(value).astimezone(UTC)
        assert isinstance(value, datetime)
        return value.astimezone(UTC)


#: 64-bit ids on PostgreSQL; SQLite needs plain INTEGER for the column to alias the rowid.
BigId = BigInteger().with_variant(Integer(), "sqlite")

chargers = Table(
    "chargers",
    metadata,
    Column("id", String, primary_key=True),
    Column("registration", String, nullable=False),
    Column("ocpp_version", String),
    Column("password_hash", Text),
    Column("vendor", String),
    Column("model", String),
    Column("serial_number", String),
    Column("firmware_version", String),
    Column("boot_reason", String),
    Column("connected", Boolean, nullable=False),
    Column("last_seen", UtcDateTime),
    Column("offline_since", UtcDateTime),
    Column("quirks", Text, nullable=False),  # JSON array of strings
    Column("security_profile", SmallInteger),  # 1-3; NULL: a password if one is set
    Column("previous_password_hash", Text),  # also admits, during a password rotation (migration 0010)
    Column("pending_security_profile", SmallInteger),  # being raised to (migration 0010)
)

connectors = Table(
    "connectors",
    metadata,
    Column("charger_id", String, ForeignKey("chargers.id", ondelete="CASCADE"), primary_key=True),
    Column("evse_id", Integer, primary_key=True),
    Column("connector_id", Integer, primary_key=True),
    Column("status", String, nullable=False),
    Column("error_code", String),
    Column("updated_at", UtcDateTime, nullable=False),
)

id_tokens = Table(
    "id_tokens",
    metadata,
    Column("id_tag", String, primary_key=True),
    Column("status", String, nullable=False),
    Column("expires_at", UtcDateTime),
    Column("parent_id_tag", String),
)

# One row (id 1): its revision goes up in the same transaction as any change to the charger directory
# (chargers added or removed, registration, password or quirks), so other processes can poll for changes.
directory = Table(
    "directory",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("revision", BigInteger, nullable=False),
)

# No foreign key to chargers: a removed charger's transactions stay for billing.
transactions = Table(
    "transactions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("charger_id", String, nullable=False),
    Column("evse_id", Integer, nullable=False),
    Column("connector_id", Integer, nullable=False),
    Column("id_tag", String),
    Column("remote_id", String),
    Column("dedupe_key", String, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("meter_start_wh", Double),
    Column("stopped_at", UtcDateTime),
    Column("meter_stop_wh", Double),
    Column("stop_reason", String),
    Column("last_meter_wh", Double),
    Column("last_seq_no", Integer),
    Column("provisional", Boolean, nullable=False, server_default=false()),  # a reaper's stop (0004)
    Column("ev_connected", Boolean, nullable=False, server_default=false()),
    Column("remote_start_id", Integer),
    UniqueConstraint("charger_id", "dedupe_key", name="uq_transactions_charger_dedupe"),
    Index("ix_transactions_charger_stopped", "charger_id", "stopped_at"),
    Index("ix_transactions_charger_remote", "charger_id", "remote_id"),
    sqlite_autoincrement=True,  # never reuse an id: it is the 1.6 transactionId chargers hold on to
)

transaction_events = Table(
    "transaction_events",
    metadata,
    Column(
        "transaction_id",
        Integer,
        ForeignKey("transactions.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("seq_no", Integer, primary_key=True, autoincrement=False),
)

# One row per OCPP MeterValue: the sampled values taken at one instant, as a JSON array of objects
# ({"measurand", "value", "unit", "phase", "context", "location"}; keys without a value are left out). One
# row, not one per sampled value: six index insertions per MeterValues had been nearly half the server's CPU
# under load. transaction_id has no foreign key on purpose: one value for an unknown transaction must not fail
# the whole group-commit batch it travels in.
meter_values = Table(
    "meter_values",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("charger_id", String, nullable=False),
    Column("evse_id", Integer, nullable=False),
    Column("transaction_id", Integer),
    Column("timestamp", UtcDateTime, nullable=False),
    Column("sampled_values", Text, nullable=False),  # JSON array
    # transaction_id alone: rows per transaction are few and sorted on read, while a 10-byte key instead of
    # a 45-byte one costs a third less per insert (the insertion points of open transactions are scattered)
    Index("ix_meter_values_transaction", "transaction_id"),
)

# --- what chargers report besides transactions (``domain.reports``, ``sql.reports``) ------------------------
# Each record is its domain object as JSON (``body``), under the columns it is looked up by. No foreign key to
# chargers: like transactions, the reports of a removed charger stay.

charging_limits = Table(
    "charging_limits",
    metadata,
    Column("charger_id", String, primary_key=True),
    Column("evse_id", Integer, primary_key=True, autoincrement=False),
    Column("source", String, primary_key=True),
    Column("body", Text, nullable=False),
)

ev_charging_needs = Table(
    "ev_charging_needs",
    metadata,
    Column("charger_id", String, primary_key=True),
    Column("evse_id", Integer, primary_key=True, autoincrement=False),
    Column("body", Text, nullable=False),
)

ev_charging_schedules = Table(
    "ev_charging_schedules",
    metadata,
    Column("charger_id", String, primary_key=True),
    Column("evse_id", Integer, primary_key=True, autoincrement=False),
    Column("body", Text, nullable=False),
)

# one row per message of a multi-part report (charging profiles, monitoring, customer information, display
# messages)
report_parts = Table(
    "report_parts",
    metadata,
    Column("charger_id", String, primary_key=True),
    Column("kind", String, primary_key=True),
    Column("request_id", Integer, primary_key=True, autoincrement=False),
    Column("seq_no", Integer, primary_key=True, autoincrement=False),
    Column("body", Text, nullable=False),
)

firmware_publications = Table(
    "firmware_publications",
    metadata,
    Column("charger_id", String, primary_key=True),
    Column("body", Text, nullable=False),
)

reservation_updates = Table(
    "reservation_updates",
    metadata,
    Column("charger_id", String, primary_key=True),
    Column("reservation_id", Integer, primary_key=True, autoincrement=False),
    Column("body", Text, nullable=False),
)

# --- link signals for the connectivity doctor (``services.link_signals``, ``sql.link_signals``) -------------
# One row per charger per flush: its samples from first_at to last_at as one JSON batch. No foreign key to
# chargers: a removed charger's rows age out with the retention.
link_signals = Table(
    "link_signals",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("charger_id", String, nullable=False),
    Column("first_at", UtcDateTime, nullable=False),
    Column("last_at", UtcDateTime, nullable=False),
    Column("body", Text, nullable=False),
    Index("ix_link_signals_charger_last", "charger_id", "last_at"),
)

# --- firmware artifacts and OTA campaigns (``firmware/``, ``services/campaigns.py``, ``sql.firmware``) ------
# Records as JSON bodies under their lookup columns, like the reports above; the image bytes are files in
# <data_dir>/firmware/. A campaign's targets and history go when it is deleted (never, today).
firmware_artifacts = Table(
    "firmware_artifacts",
    metadata,
    Column("id", String, primary_key=True),
    Column("body", Text, nullable=False),
)

firmware_campaigns = Table(
    "firmware_campaigns",
    metadata,
    Column("id", String, primary_key=True),
    Column("state", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("body", Text, nullable=False),
)

firmware_targets = Table(
    "firmware_targets",
    metadata,
    Column("campaign_id", String, primary_key=True),
    Column("charger_id", String, primary_key=True),
    Column("grp", Integer, nullable=False),
    Column("body", Text, nullable=False),
)

firmware_history = Table(
    "firmware_history",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("campaign_id", String, nullable=False),
    Column("body", Text, nullable=False),
    Index("ix_firmware_history_campaign", "campaign_id", "id"),
)

firmware_downloads = Table(
    "firmware_downloads",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("artifact_id", String, nullable=False),
    Column("body", Text, nullable=False),
    Index("ix_firmware_downloads_artifact", "artifact_id", "id"),
)


# --- fleet operations (``services.local_lists``, ``services.reservations``; migration 0009) -----------------
# What each charger's local authorization list holds as far as we know (the last version it accepted from us,
# its entries as JSON) and its authorization cache policy. No foreign key: a re-added charger starts over.
local_lists = Table(
    "local_lists",
    metadata,
    Column("charger_id", String, primary_key=True),
    Column("version", Integer),
    Column("entries", Text),  # JSON object: id tag -> {"status", "expires_at", "parent"}
    Column("cache_policy", String, nullable=False),
    Column("updated_at", UtcDateTime),
)

# Reservations made with ReserveNow; the id is the OCPP reservationId (never reused).
reservations = Table(
    "reservations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("charger_id", String, nullable=False),
    Column("evse_id", Integer, nullable=False),
    Column("id_tag", String, nullable=False),
    Column("parent_id_tag", String),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("status", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("transaction_id", Integer),
    Index("ix_reservations_charger_status", "charger_id", "status"),
    sqlite_autoincrement=True,
)


# --- who uses the REST API: role tokens (hashed) and webhooks (``domain.api_clients``, ``sql.api_clients``) --
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String, primary_key=True),
    Column("name", String, nullable=False, unique=True),
    Column("role", String, nullable=False),
    Column("secret_hash", String, nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
)
webhooks = Table(
    "webhooks",
    metadata,
    Column("id", String, primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("body", Text, nullable=False),  # the Webhook as JSON (url, kinds, chargers, secret)
)


# --- what people set on sites through REST and MQTT (``domain.site_settings``, ``sql.site_settings``) --------
site_documents = Table(
    "site_documents",
    metadata,
    Column("name", String, primary_key=True),
    Column("body", Text, nullable=False),  # the SiteDocument as JSON (document None: removed)
)
evse_settings = Table(
    "evse_settings",
    metadata,
    Column("evse_id", String, primary_key=True),
    Column("body", Text, nullable=False),  # the EvseSetting as JSON
)
