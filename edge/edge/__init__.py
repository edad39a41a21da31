"""Shared code of the commerce services: what two services need, written once."""
