"""Each service owns its database: no role can connect to another service's."""

import psycopg
import pytest

from edge.service_table import SERVICES


@pytest.mark.parametrize(
    ("role_of", "database_of"),
    # Each service's role against the next one's database, round the table.
    [
        (role.name, database.name)
        for role, database in zip(SERVICES, SERVICES[1:] + SERVICES[:1], strict=True)
    ],
)
def test_a_service_role_cannot_connect_to_another_services_database(stack, role_of, database_of):
    own_url = stack.service_env[role_of]["DATABASE_URL"]
    other_database = stack.service_env[database_of]["DATABASE_URL"].rsplit("/", 1)[1]

    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        psycopg.connect(own_url.rsplit("/", 1)[0] + f"/{other_database}", connect_timeout=3)


def test_a_service_role_connects_to_its_own_database(stack):
    with psycopg.connect(stack.service_env["orders"]["DATABASE_URL"], connect_timeout=3) as connection:
        assert connection.execute("SELECT current_user").fetchone()[0].endswith("orders")
