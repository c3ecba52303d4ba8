"""Data shipped with the package: the known formulas and the campaign files.

This folder stays at the top of the repository and installs as the package ``discovery.data``
(see ``[tool.setuptools]`` in pyproject.toml); read it with
``importlib.resources.files("discovery.data")``, as :mod:`discovery.pcf.known` does.
"""
