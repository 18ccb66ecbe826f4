"""A log upload the server asked a charger for, and how its status moves: the record ``services.log_uploads``
keeps per request (``adapters.log_files`` stores it as JSON beside the uploaded file).

Rules:

1. A request is recorded *before* the command goes out (status ``Requested``), so that an upload racing the
   charger's answer finds it. The answer sets ``Accepted`` / ``Rejected`` (2.0.1 also ``AcceptedCanceled``);
   a command that never reached the charger ends ``NotSent``, a CallError ``Failed``.
2. Status notifications (1.6 DiagnosticsStatusNotification, LogStatusNotification) append to the history and
   set the status, except that ``Idle`` never replaces a final status (``Uploaded``, ``UploadFailed``): a
   charger asked for its status later reports Idle.
3. The file counts once it is stored: ``file`` set, whatever the charger reports afterwards (or never).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime

FINAL = frozenset({"Uploaded", "UploadFailed", "Rejected", "NotSent", "Failed", "BadMessage", "PermissionDenied",
                   "NotSupportedOperation"})  # fmt: skip
#: the 2.0.1 LogStatusNotification names for what 1.6 DiagnosticsStatusNotification calls them
STATUS_NAMES = {"UploadFailure": "UploadFailed"}


class LogKind(enum.StrEnum):
    """What to fetch: 1.6 GetDiagnostics / 2.0.1 GetLog DiagnosticsLog, or the security log (GetLog
    SecurityLog, in 2.0.1 and the 1.6 security extension)."""

    DIAGNOSTICS = "diagnostics"
    SECURITY = "security"


@dataclass(frozen=True, kw_only=True, slots=True)
class StoredFile:
    name: str  # the file name the charger gave (multipart filename or URL), sanitised
    size: int
    sha256: str
    received_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class StatusChange:
    status: str
    at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class LogRequest:
    id: str  # ours: in the upload URL, the REST path and the file names
    charger_id: str
    kind: LogKind
    request_id: int  # the OCPP requestId of a GetLog (1.6 GetDiagnostics has none: kept for matching only)
    action: str  # GetDiagnostics or GetLog
    requested_at: datetime
    expires_at: datetime  # the upload URL works until then
    status: str = "Requested"
    status_at: datetime | None = None
    charger_filename: str | None = None  # the name the charger said it would upload
    history: tuple[StatusChange, ...] = ()
    file: StoredFile | None = None


def changed(request: LogRequest, status: str, at: datetime) -> LogRequest:
    """``request`` after the charger reported ``status`` at ``at`` (rule 2)."""
    status = STATUS_NAMES.get(status, status)
    history = (*request.history, StatusChange(status=status, at=at))[-50:]
    if status == "Idle" and request.status in FINAL:
        return replace(request, history=history)
    return replace(request, status=status, status_at=at, history=history)


def stored(request: LogRequest, file: StoredFile) -> LogRequest:
    """``request`` once its file is stored (rule 3)."""
    return replace(request, file=file)
