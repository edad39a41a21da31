import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import token_pair_for
from tests.factories import UserFactory


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def customer(db: None) -> User:
    return UserFactory()


@pytest.fixture
def staff(db: None) -> User:
    return UserFactory(is_staff=True)


@pytest.fixture
def access_token_for():
    def issue(user: User) -> str:
        return str(token_pair_for(user).access_token)

    return issue
