"""gunicorn settings: `gunicorn -c config/gunicorn.conf.py config.wsgi`."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
# Two processes per core, two threads each. A request is mostly Python (one core per process
# at a time), and a gthread worker keeps the keep-alive connections it accepted: with one
# process per core, 16 clients sometimes all landed on one of the two and the order list
# served 68 requests/s instead of 145 (make bench-api); four processes of two threads gave
# 133-153 run after run.
workers = int(os.environ.get("GUNICORN_WORKERS", 2 * multiprocessing.cpu_count()))
threads = int(os.environ.get("GUNICORN_THREADS", 2))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 30
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", 5))
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 5000))
max_requests_jitter = 500
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# The path without its query string: the Plano endpoints accept `token` there and signed
# download links carry a `signature`, neither of which belongs in a log. No referrer either
# (it may hold such a URL). The request id ties a line to the application's log lines.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss "%(a)s" %({x-request-id}o)s'
