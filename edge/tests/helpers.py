"""What several of edge's test modules build."""

from edge.authentication import TokenUser
from edge.tokens import Claims


def token_user(**claims: object) -> TokenUser:
    """The API caller that a token with these claims describes: a customer unless told."""
    values = {
        "user_id": 5,
        "email": "u@example.com",
        "is_staff": False,
        "is_superuser": False,
        "email_verified": True,
        "jti": "j",
        "exp": 1,
        **claims,
    }
    return TokenUser(Claims(**values))
