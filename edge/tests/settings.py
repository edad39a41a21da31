"""A small service built from edge alone, so that edge's tests run the way the services use it."""

from pathlib import Path

from edge.settings import service_settings

globals().update(service_settings(service="edge", app="tests.shop", base_dir=Path(__file__).resolve().parent))
ROOT_URLCONF = "tests.urls"
