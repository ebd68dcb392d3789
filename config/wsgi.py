import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()

# What is loaded by now (Django, the apps, their modules and caches) lives as long as the
# process: move it out of the cyclic collector's way. Otherwise every full collection walks
# all of it again — about 90 ms here, every few hundred requests, during which the worker's
# other requests wait (the order list's p99 under load was 390 ms against a p50 of 50;
# docs/performance.md). Requests make cyclic garbage (serializers and their bound fields,
# request wrappers), which the collector still finds among the objects made after this.
gc.freeze()
