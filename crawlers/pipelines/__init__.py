"""Item pipelines, one class per file, in the order settings.ITEM_PIPELINES runs them:
raw page (100), normalise (200), validate (300), de-duplicate (400), upsert notice (500)."""
