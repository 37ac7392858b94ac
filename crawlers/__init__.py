"""Crawlers: Scrapy spiders for the WTO TBT/SPS sources, their pipelines, the replay server and the runner.

Importing this package imports nothing heavy; Scrapy is loaded by the modules that need it.
"""
