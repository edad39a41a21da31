"""edge.permissions: the one IsStaff every service's API uses."""

from types import SimpleNamespace

import pytest

from edge.permissions import IsStaff, IsStaffOrReadOnly


@pytest.mark.parametrize(
    ("permission", "method", "is_staff", "allowed"),
    [
        (IsStaff, "GET", False, False),
        (IsStaff, "POST", True, True),
        (IsStaffOrReadOnly, "GET", False, True),
        (IsStaffOrReadOnly, "POST", False, False),
        (IsStaffOrReadOnly, "POST", True, True),
    ],
)
def test_staff_write_and_anyone_reads_where_a_view_says_so(permission, method, is_staff, allowed):
    request = SimpleNamespace(method=method, user=SimpleNamespace(is_authenticated=True, is_staff=is_staff))

    assert permission().has_permission(request, view=None) is allowed
