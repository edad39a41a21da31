"""The settings every service starts from: ``from edge.settings.base import *`` (see ``base``)."""
