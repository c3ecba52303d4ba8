"""Run or resume a campaign from a script: python scripts/run_campaign.py CONFIG.toml DB [--max-units N]

The same as ``discovery campaign run``; shown here as the Python API a notebook would use.
"""

from __future__ import annotations

import argparse

from discovery.campaign import load_config, run_campaign, summary_lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("db")
    parser.add_argument("--max-units", type=int)
    args = parser.parse_args()
    config = load_config(args.config)
    result = run_campaign(config, args.db, max_units=args.max_units)
    print("\n".join(summary_lines(result)))


if __name__ == "__main__":
    main()
