"""Idempotency keys for any POST of a DRF view: decorate the view method with ``@idempotent``.

After Stripe and the IETF idempotency-key draft: a retry with the same key and body gets the
first response again, another body is 422, a retry while the first still runs is 409. Keys are
per user and per endpoint, and expire (``EDGE["IDEMPOTENCY_KEY_TTL_SECONDS"]``, a day).
"""
