"""simplejwt's documented URLs, plus the example protected view the Rust server serves."""
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import (
    TokenBlacklistView,
    TokenObtainPairView,
    TokenRefreshView,
    TokenVerifyView,
)


class MeView(APIView):
    """GET /api/me/: the authenticated user (JWTAuthentication loads it from the database)."""

    def get(self, request):
        user = request.user
        return Response({"id": user.id, "username": user.username, "email": user.email})


urlpatterns = [
    path("api/token/", TokenObtainPairView.as_view()),
    path("api/token/refresh/", TokenRefreshView.as_view()),
    path("api/token/verify/", TokenVerifyView.as_view()),
    path("api/token/blacklist/", TokenBlacklistView.as_view()),
    path("api/me/", MeView.as_view()),
]
