"""The BLE side of the imugait exception tree (``ImuGaitError`` → ``SensorError``).

::

    SensorError                  a sensor could not be found, reached or understood
    ├── SensorNotFoundError      no advertisement matched a requested sensor
    ├── SensorDisconnectedError  a sensor's link dropped and could not be restored
    └── PacketDecodeError        one notification could not be decoded (internal: decoders count these)
"""

from __future__ import annotations

from pipeline.errors import ImuGaitError


class SensorError(ImuGaitError):
    """Root of every BLE/sensor-side error."""


class SensorNotFoundError(SensorError):
    """No advertising device matched ``identifier`` (a site, name or address)."""

    def __init__(self, identifier: str, message: str = "") -> None:
        self.identifier = identifier
        super().__init__(
            f"sensor {identifier!r}: "
            + (message or "not found; check it is switched on, charged and not connected to another app")
        )


class SensorDisconnectedError(SensorError):
    """The link to the sensor worn at ``site`` dropped."""

    def __init__(self, site: str, message: str = "") -> None:
        self.site = site
        super().__init__(f"sensor at {site}: " + (message or "link lost; move closer or check its battery"))


class PacketDecodeError(SensorError):
    """One notification could not be decoded. Decoders catch it, count the packet as bad and drop it."""
