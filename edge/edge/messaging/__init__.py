"""Transactional messaging: ``publish()`` with an outbox, idempotent handling with an inbox."""
