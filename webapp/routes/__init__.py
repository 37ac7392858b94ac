"""Route modules: HTML pages (each router checks CSRF on POST) and the JSON API under ``/api/``."""
