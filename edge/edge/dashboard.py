"""The dashboard above each admin site's list of models: panels of figures, charts and tables.

Each service declares its panels in its own ``dashboard.py``: functions of the request that read
its selectors and return a ``Panel``, named in ``EDGE["DASHBOARD_PANELS"]``. The admin site
(``edge.admin_site``) shows those the staff member may see, then the event health that every
service has (``edge.messaging.dashboard``); ``edge/dashboard.html`` draws them. Every figure,
chart and table carries a ``data-`` key by which a test finds it.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.safestring import SafeString

from edge.conf import edge_settings

# How far back the charts of things per day look.
DAYS = 30


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    value: object
    url: str = ""
    # Shown as a warning while it is not zero: something staff should look at.
    alarming: bool = False


@dataclass(frozen=True)
class Row:
    cells: Sequence[object]
    # Where its first cell links to: the object's change page.
    url: str = ""
    # The object the table's action button acts on.
    pk: object = None


@dataclass(frozen=True)
class RowAction:
    """A button on each row that runs an admin action of the changelist on that row's object."""

    changelist_url: str
    action: str
    label: str


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    columns: Sequence[str]
    rows: Sequence[Row]
    empty: str = "None."
    more_url: str = ""
    more_label: str = "All"
    action: RowAction | None = None


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    figures: Sequence[Figure] = ()
    charts: Sequence[SafeString] = ()
    tables: Sequence[Table] = ()
    # A panel as wide as the page, for charts over many days.
    wide: bool = False


PanelFunction = Callable[[HttpRequest], Panel]


def panel(*, permission: str) -> Callable[[PanelFunction], Callable[[HttpRequest], Panel | None]]:
    """Declares a panel function that only staff holding ``permission`` see (others get None)."""

    def decorate(build: PanelFunction) -> Callable[[HttpRequest], Panel | None]:
        @wraps(build)
        def build_if_permitted(request: HttpRequest) -> Panel | None:
            return build(request) if request.user.has_perm(permission) else None

        return build_if_permitted

    return decorate


def dashboard_panels(request: HttpRequest) -> list[Panel]:
    """The service's panels (``EDGE["DASHBOARD_PANELS"]``) the staff member may see, then its events'."""
    paths = [*edge_settings.DASHBOARD_PANELS, "edge.messaging.dashboard.event_health"]
    built = (import_string(path)(request) for path in paths)
    return [one for one in built if one is not None]


def changelist_url(model: type[models.Model], *, oldest_first: str = "", **filters: Any) -> str:
    """The admin's list of ``model``, filtered by the list's own query parameters.

    ``oldest_first`` names a column of the list to sort by, ascending: the admin sorts by a
    column's position, which is read from the model's admin here rather than written in a link.
    """
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    query = dict(filters)
    if oldest_first:
        columns = list(admin.site.get_model_admin(model).list_display)
        query["o"] = columns.index(oldest_first) + 1
    return f"{url}?{urlencode(query)}" if query else url


def change_url(obj: models.Model) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def last_days(days: int = DAYS) -> list[date]:
    """The last ``days`` days, today last, in the site's time zone."""
    today = timezone.localdate()
    return [today - timedelta(days=back) for back in range(days - 1, -1, -1)]


def since(days: Sequence[date]) -> datetime:
    """The start of the first of ``days``: what a query of things per day filters from."""
    return timezone.make_aware(datetime.combine(days[0], time.min))


def per_day(days: Sequence[date], counts: Iterable[tuple[date, Any]], *, zero: Any = 0) -> list[Any]:
    """The value of each day, ``zero`` for a day the query found nothing on."""
    by_day = dict(counts)
    return [by_day.get(day, zero) for day in days]


def day_labels(days: Sequence[date]) -> list[str]:
    return [day.strftime("%d %b") for day in days]


def when(moment: datetime) -> str:
    """A moment of the last weeks, short enough for a table's cell: "29 Nov 20:09"."""
    return timezone.localtime(moment).strftime("%d %b %H:%M")


def age(since_moment: datetime) -> str:
    """How long ago, in the largest unit that fits: "45 s", "12 min", "3 h", "2 d"."""
    seconds = max((timezone.now() - since_moment).total_seconds(), 0)
    return seconds_as_age(seconds)


def seconds_as_age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"
