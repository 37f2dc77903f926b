"""The imugait exception tree.

::

    ImuGaitError                     root: catch this to handle any imugait failure
    ├── DataContractError            a file or table does not follow its schema
    │   ├── SchemaMismatchError      wrong schema name/version/columns/units
    │   ├── SessionNotFoundError     no session folder or session.json at a path
    │   └── ImportFormatError        a table given to ``imugait import`` cannot be used
    ├── SignalError                  the signals cannot support an analysis
    │   └── InsufficientDataError    too little usable data (e.g. no walking found)
    └── SensorError                  defined in ``sensors.errors`` (BLE side)

Every error carries the fields a caller needs (path, expected, actual) and a message that says what to do.
"""

from __future__ import annotations

from pathlib import Path


class ImuGaitError(Exception):
    """Root of every error imugait raises on purpose."""


class DataContractError(ImuGaitError):
    """A file or table does not follow the data contract."""

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path is not None else message)


class SchemaMismatchError(DataContractError):
    """A table's schema name, version, columns, types or units are not what the reader expects."""

    def __init__(self, message: str, *, path: Path | None = None, expected: str = "", actual: str = "") -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(message, path=path)


class SessionNotFoundError(DataContractError):
    """The path holds no imugait session (no ``session.json``)."""


class ImportFormatError(DataContractError):
    """A table handed to ``imugait import table`` cannot be turned into a session."""


class SignalError(ImuGaitError):
    """The signals cannot support the requested analysis."""


class InsufficientDataError(SignalError):
    """Too little usable data, e.g. no walking bout long enough to segment."""
