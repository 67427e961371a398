from django.core.wsgi import get_wsgi_application

import config  # noqa: F401  (reads .env, picks the settings module)

application = get_wsgi_application()
