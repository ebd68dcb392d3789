"""config.wsgi: the loaded application is out of the cyclic garbage collector's way."""

import gc
import importlib
import sys


def test_loading_the_application_freezes_what_it_loaded():
    gc.unfreeze()
    sys.modules.pop("config.wsgi", None)
    try:
        module = importlib.import_module("config.wsgi")
        assert callable(module.application)
        assert gc.get_freeze_count() > 10_000  # Django and the apps, not a handful
    finally:
        gc.unfreeze()
