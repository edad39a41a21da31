from django.db import models


class Greeting(models.Model):
    """What the test handler of ``user.registered`` leaves behind."""

    email = models.EmailField()

    def __str__(self) -> str:
        return self.email
