"""tbtwatch: early warning on WTO TBT/SPS notifications for Shenzhen's exporters.

This package holds what every stage shares: the notice model, symbol and HS code
parsing, members, settings and the command line.
"""

__version__ = "0.1.0"
