"""The store: peewee models, the database from a URL, migrations and every query. No UI, no wire."""
