"""gunicorn's settings for the image (`gunicorn -c config/gunicorn.py`).

In front of it sits a reverse proxy that reads each request whole before passing
it on (config/nginx/clinic.conf.template in docker-compose.yml): a client sending
one byte a second ties up the proxy's cheap connection, never a worker. The
limits here hold even without it: headers bounded, a request timed out.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
# Threads let a worker serve others while one request waits on the database.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 30
graceful_timeout = 30
keepalive = 5
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
# Only these addresses (the proxy's) may say the request came over HTTPS
# (X-Forwarded-Proto); from anyone else the header is ignored.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# No access log: the app writes its own, without paths (they can hold tokens).
accesslog = None
errorlog = "-"
