"""What every service's admin shares: saving through the service functions.

The rules live in the service functions, which raise a ``DomainError``; the admin only
shows the refusal. ``ServiceSavingAdmin`` saves a form through a service while the form is
validated, so the refusal is an error on the form, next to its field (not a 500 or a 403
page). ``ServiceAdmin.apply_to_each`` runs an action's service once per selected object and
reports each refusal as a message naming the object.
"""

from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse

from edge.exceptions import DomainError


def add_domain_error(form: forms.BaseForm, error: DomainError) -> None:
    """Show the refusal on the form: on its field when the form has it, else above the fields."""
    form.add_error(error.field if error.field in form.fields else None, error.detail)


class ServiceAdmin(admin.ModelAdmin):
    """A ModelAdmin whose actions call service functions and report their refusals as messages."""

    def apply_to_each(
        self,
        request: HttpRequest,
        objects: Iterable[models.Model],
        change: Callable[[models.Model], object],
        *,
        done: str,
    ) -> int:
        """An action's change, object by object; one refused is a warning naming it, not a 500.

        ``done`` is the success message, with ``{count}`` for the number changed.
        """
        count, refused = 0, []
        for obj in objects:
            try:
                # Each in its own transaction: a refused one leaves the others changed.
                with transaction.atomic():
                    change(obj)
            except DomainError as error:
                refused.append(f"{obj}: {error.detail}")
            else:
                count += 1
        if count:
            self.message_user(request, done.format(count=count), messages.SUCCESS)
        if refused:
            self.message_user(request, "Not changed: " + "; ".join(refused), messages.WARNING)
        return count

    def apply_to_all(self, request: HttpRequest, change: Callable[[], object], *, done: str) -> None:
        """An action whose service changes the selection at once, all or nothing; a refusal is an error message."""
        try:
            result = change()
        except DomainError as error:
            self.message_user(request, f"Nothing changed: {error.detail}", messages.ERROR)
        else:
            self.message_user(request, done.format(result=result), messages.SUCCESS)


class ServiceSavingAdmin(ServiceAdmin):
    """A ModelAdmin whose add and change forms save through a service function.

    Subclasses implement ``save_through_service``. It runs when the form is found valid,
    inside the transaction the admin opens for every POST: a ``DomainError`` becomes an
    error on the form, and a page that shows errors again rolls back whatever was written.
    """

    def save_through_service(
        self, request: HttpRequest, obj: models.Model, form: forms.ModelForm, change: bool
    ) -> models.Model:
        """Save the form's changes through the app's services; return the saved object.

        ``obj`` already carries the form's values; ``form.changed_data`` names what changed,
        and the database still holds the object as it was.
        """
        raise NotImplementedError

    def get_form(
        self, request: HttpRequest, obj: models.Model | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        form_class = super().get_form(request, obj, change=change, **kwargs)
        model_admin = self

        class ServiceSavingForm(form_class):
            saved = False

            def is_valid(self) -> bool:
                if not super().is_valid():
                    return False
                if not self.saved:
                    try:
                        saved = model_admin.save_through_service(request, self.instance, self, change)
                    except DomainError as error:
                        add_domain_error(self, error)
                        return False
                    self.saved = True
                    # The admin goes on with the form's instance (the inlines hang on it):
                    # it takes the saved row's values, its primary key above all.
                    for field in saved._meta.concrete_fields:
                        setattr(self.instance, field.attname, getattr(saved, field.attname))
                return True

        return ServiceSavingForm

    def save_model(
        self, request: HttpRequest, obj: models.Model, form: forms.ModelForm, change: bool
    ) -> None:
        """Nothing left to do: ``save_through_service`` saved it when the form was validated."""

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> HttpResponse:
        # Built first: past set_rollback() the transaction takes no query (a content type the
        # process has not cached yet, say). The page itself renders once the view has returned.
        response = super().render_change_form(request, context, *args, **kwargs)
        if request.method == "POST":
            # The form comes back with errors (its own or an inline's): nothing it wrote stays.
            transaction.set_rollback(True)
        return response
