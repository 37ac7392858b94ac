"""The analysts' archive: a FastAPI app with server-rendered pages (search, notice, review queue,
subscriptions, statistics) and a JSON API under ``/api/``. ``webapp.app.create_app`` builds it;
``tbtwatch serve`` runs it under uvicorn.
"""
