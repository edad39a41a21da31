"""Settings of the catalog service: the shared shape from edge."""

from pathlib import Path

from edge.settings import service_settings

BASE_DIR = Path(__file__).resolve().parent.parent

globals().update(service_settings(service="catalog", app="catalog", base_dir=BASE_DIR))
