import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kubelearn.settings")
application = get_wsgi_application()

# A web process serves pages and the API: load every view now, and with them the recommender's
# engine (numpy, scipy) and the API's serializers, which starting Django no longer imports
# (pollers and commands need neither), so that a worker's first request does not pay for them.
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018 - evaluated for its imports

# All of that lives as long as the process: move it out of the cyclic collector's way, so that
# a full collection, which pauses the request it falls in, walks only what requests made. In
# the API benchmark's workers one took ~100 ms before, ~30 ms after (a probe timing them).
gc.freeze()
