"""Search campaigns: TOML configuration, strategies, executors, checkpoint and resume, closing.

A PCF campaign covers a coefficient space (one PCF per canonical class) cut into work units.  Each
unit runs the pipeline

    float evaluation → convergence filter → dynamics metrics → meet-in-the-middle match against
    Möbius transforms of the chosen constants → exact identification of the matches

in a worker (:mod:`.pcf`), and the driver stores the unit's results and its done mark in one
transaction.  When the search is complete the closing stage (:mod:`.closing`) clusters the
campaign by convergence dynamics, identifies representatives of unidentified clusters, stores all
of that with the finished mark in one transaction, detects families and writes the report.

Files: :mod:`.config` (the configuration types and :func:`load_config`) over :mod:`.schema`
(checks and bounds); :mod:`.runner` (load, pick the strategy, run it, close); :mod:`.strategy`
(the interface and the run it works in); the strategies :mod:`.enumerate` (enumerate, mitm),
:mod:`.evolve` and :mod:`.programs`; :mod:`.pcf` (one work unit); :mod:`.training` (the triage
model from the store); :mod:`.closing`; :mod:`.result`; :mod:`.progress`; :mod:`.executors`
(local pool, Dask).
"""

from __future__ import annotations

import importlib

# Public name -> the module defining it.  Imported when first used, so a worker process that
# unpickles a work unit (discovery.campaign.pcf) does not load the driver's closing stage
# (clustering, plots, report).
_EXPORTS = {
    "CampaignConfig": "config", "ConfigError": "config", "PcfConfig": "config", "ProgramConfig": "config",
    "load_config": "config",
    "Executor": "executors", "LocalExecutor": "executors", "make_executor": "executors",
    "campaign_space": "pcf", "run_pcf_unit": "pcf", "unit_count": "runner",
    "CampaignResult": "result", "summary_lines": "result",
    "STRATEGIES": "runner", "run_campaign": "runner",
    "CampaignRun": "strategy", "Strategy": "strategy",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
