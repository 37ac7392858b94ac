"""tbtwatch: early warning on WTO TBT/SPS notifications for Shenzhen's exporters.

This package is the core every part shares: the notice model, symbol and HS
code parsing, dates in notice text, members and settings. It imports nothing
else of ours; the command line and the pipeline live above the parts, in
``commands``.
"""

__version__ = "0.1.0"
