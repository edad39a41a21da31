from django.urls import path
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response


@api_view(["GET", "POST"])
def whoami(request: Request) -> Response:
    return Response({"id": request.user.id, "email": request.user.email, "is_staff": request.user.is_staff})


urlpatterns = [path("whoami/", whoami)]
