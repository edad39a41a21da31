"""Notifications to customers (email, log), driven by events."""
