"""Settings for a real `db_worker` process started by a test: the test settings, but the
DatabaseBackend (the test process itself uses the ImmediateBackend)."""

from config.settings.test import *  # noqa: F403

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
