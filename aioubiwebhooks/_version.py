"""The package's version: one place, read by the build, the User-Agent and ``--version``."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.2.0"
