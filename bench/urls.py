"""The service's URLs and one bare view beside them, bench/submissions.py's baseline.

The baseline parses the same JSON body and does one INSERT, through the same server,
middleware and database: what is left between the two is the service's own work.
"""

import json

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from config.urls import handler404, handler500
from config.urls import urlpatterns as service_urls

__all__ = ["handler404", "handler500", "urlpatterns"]


@csrf_exempt
def baseline(request: HttpRequest) -> HttpResponse:
    body = json.loads(request.body)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_baseline (body) VALUES (%s) RETURNING id",
            [json.dumps(body)],
        )
        (row_id,) = cursor.fetchone()
    return JsonResponse({"id": row_id}, status=201)


urlpatterns = [path("bench/baseline", baseline), *service_urls]
