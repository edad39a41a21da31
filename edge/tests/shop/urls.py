from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from edge import json_fields
from edge.idempotency.decorators import idempotent
from edge.permissions import IsStaff
from tests.shop.models import Greeting

REFUSED = "Greetings to refused@ addresses are written, then refused."


@api_view(["GET", "POST"])
def whoami(request: Request) -> Response:
    return Response({"id": request.user.id, "email": request.user.email, "is_staff": request.user.is_staff})


class GreetingSerializer(serializers.Serializer):
    email = serializers.EmailField()
    note = serializers.CharField(required=False, default="")


def hold(greeting: Greeting) -> None:
    """Called while the greeting's transaction is open: tests replace it to keep a request in flight."""


class Greetings(APIView):
    """An idempotent POST, as a service would write one."""

    @extend_schema(request=GreetingSerializer, responses={201: GreetingSerializer})
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = GreetingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        greeting = Greeting.objects.create(email=serializer.validated_data["email"])
        hold(greeting)
        if greeting.email.startswith("refused@"):
            return Response({"detail": REFUSED}, status=409)
        return Response({"id": greeting.id, "email": greeting.email}, status=201)


class NoticeSerializer(serializers.Serializer):
    text = json_fields.CharField(max_length=200)
    pinned = json_fields.BooleanField(required=False, default=False)
    order = json_fields.IntegerField(required=False, default=0)


class StaffOrReadOnly(IsStaff):
    """Anyone reads; staff write: a view of no model, whose reads the schema calls public."""

    reads_are_public = True

    def has_permission(self, request: Request, view: APIView) -> bool:
        return request.method in SAFE_METHODS or super().has_permission(request, view)


class Notices(APIView):
    """Anyone reads the notices; staff post one."""

    permission_classes = [StaffOrReadOnly]

    @extend_schema(responses=NoticeSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response([{"text": "Closed on Sunday", "pinned": True, "order": 0}])

    @extend_schema(request=NoticeSerializer, responses={201: NoticeSerializer})
    def post(self, request: Request) -> Response:
        serializer = NoticeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data, status=201)


urlpatterns = [
    path("whoami/", whoami),
    path("greetings/", Greetings.as_view()),
    # The same view at another address: another endpoint, where keys are scoped apart.
    path("welcomes/", Greetings.as_view()),
    path("notices/", Notices.as_view()),
]
