"""WSGI entry point of the auth service (gunicorn config.wsgi).

The gateway's token check is answered in front of Django's middleware: it is on the path of
every protected request (``accounts.gateway_check``).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from accounts.gateway_check import with_verify_fast_path

application = with_verify_fast_path(get_wsgi_application())
