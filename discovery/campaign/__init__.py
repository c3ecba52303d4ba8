"""Search campaigns: TOML configuration, work units, executors, checkpoint and resume.

A PCF campaign covers a coefficient space (one PCF per canonical class) cut into work units.  Each
unit runs the pipeline

    float evaluation → convergence filter → dynamics metrics → meet-in-the-middle match against
    Möbius transforms of the chosen constants → exact identification of the matches

in a worker (:mod:`.pcf`), and the driver stores the unit's results and its done mark in one
transaction (:mod:`.runner`).  When every unit is done the campaign is clustered by convergence
dynamics, representatives of unidentified clusters are identified, and all of that is stored with
the finished mark in one transaction.  Files: :mod:`.config` (the TOML schema), :mod:`.pcf` (one
work unit), :mod:`.programs` (program campaigns), :mod:`.executors` (local pool, Dask),
:mod:`.runner` (resume, storing, the closing stage).
"""

from discovery.campaign.config import CampaignConfig, ConfigError, load_config
from discovery.campaign.executors import Executor, LocalExecutor
from discovery.campaign.pcf import campaign_space, run_pcf_unit, unit_count
from discovery.campaign.runner import CampaignResult, run_campaign, summary_lines

__all__ = [
    "CampaignConfig",
    "CampaignResult",
    "ConfigError",
    "Executor",
    "campaign_space",
    "LocalExecutor",
    "load_config",
    "run_campaign",
    "run_pcf_unit",
    "summary_lines",
    "unit_count",
]
