from django.db import connection
from django.http import HttpResponse
from django.urls import path


def index(request):
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (version,) = cursor.fetchone()
    return HttpResponse(f"Hello from Django behind nginx! Postgres {version.split()[0]}\n")


urlpatterns = [path("", index)]
