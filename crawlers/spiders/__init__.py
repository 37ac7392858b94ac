"""One spider per source, named as its entry in config/sources.yaml (feeds: ``feeds.py`` builds one per entry)."""
