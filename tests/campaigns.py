"""Campaign files for tests, written from tables given as dicts: the one place tests make them.

    path = write_campaign(tmp_path / "c.toml", campaign={"name": "c", "kind": "pcf"},
                          space={"degree_a": 1, "degree_b": 2, "bound": 2}, search={...})

Malformed files that tests feed the loader on purpose stay literal text in those tests.
"""

import json
from pathlib import Path


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # a TOML basic string: JSON's escapes are TOML's
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise TypeError(f"no TOML form for {v!r}")


def campaign_toml(**tables: dict) -> str:
    """The text of a campaign file with these tables (``campaign``, ``space`` or ``target``,
    ``search``, ``identify``, ``execution``), in the order given; None values are left out."""
    parts = []
    for table, keys in tables.items():
        lines = [f"[{table}]"] + [f"{k} = {_value(v)}" for k, v in keys.items() if v is not None]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def write_campaign(path: Path, **tables: dict) -> Path:
    """Write :func:`campaign_toml` of the tables to ``path``; returns it."""
    path.write_text(campaign_toml(**tables))
    return path
