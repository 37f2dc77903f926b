"""The live recording status view (rich), used by ``imugait record`` and ``imugait replay``."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table

from sensors.recorder import SensorStatus


def status_table(statuses: Sequence[SensorStatus], *, title: str = "Recording") -> Table:
    """One row per sensor: link state, measured rate, packets lost, seconds recorded."""
    table = Table(title=title, expand=False)
    for name, justify in (
        ("site", "left"),
        ("device", "left"),
        ("link", "left"),
        ("rate (Hz)", "right"),
        ("samples", "right"),
        ("lost pkts", "right"),
        ("bad pkts", "right"),
        ("reconnects", "right"),
        ("recorded (s)", "right"),
        ("cadence (steps/min)", "right"),
        ("note", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for st in statuses:
        link = "[green]connected[/]" if st.connected else "[red]down[/]"
        lost = f"[yellow]{st.lost_packets}[/]" if st.lost_packets else "0"
        table.add_row(
            st.site,
            st.name,
            link,
            f"{st.rate_hz:6.1f}",
            str(st.samples),
            lost,
            str(st.bad_packets),
            str(st.reconnects),
            f"{st.seconds:7.1f}",
            "–" if st.cadence_spm != st.cadence_spm else f"{st.cadence_spm:5.0f}",
            st.last_error,
        )
    return table
