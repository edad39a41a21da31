"""DomainError: one refusal, shown alike by the API, the admin and Django's validation."""

from rest_framework.exceptions import NotFound

from edge.exceptions import DomainError, exception_handler


class TooFewUnits(DomainError):
    status_code = 409
    code = "too_few_units"
    message = "Only {units} unit(s) left."
    field = "quantity"


def test_the_api_answers_a_domain_error_with_its_status_code_and_message():
    response = exception_handler(TooFewUnits(units=3), {})

    assert response.status_code == 409
    assert response.data == {"code": "too_few_units", "detail": "Only 3 unit(s) left.", "field": "quantity"}


def test_an_error_without_a_field_answers_code_and_detail_only():
    class Refused(DomainError):
        code = "refused"
        message = "No."

    assert exception_handler(Refused(), {}).data == {"code": "refused", "detail": "No."}


def test_other_errors_are_left_to_drf():
    response = exception_handler(NotFound(), {})

    assert (response.status_code, response.data["detail"]) == (404, "Not found.")


def test_the_field_can_be_named_where_the_error_is_raised():
    error = TooFewUnits(units=1, field="items")

    assert (error.field, TooFewUnits.field) == ("items", "quantity")


def test_a_domain_error_becomes_a_validation_error_on_its_field():
    error = TooFewUnits(units=2).as_validation_error()

    assert error.message_dict == {"quantity": ["Only 2 unit(s) left."]}


def test_an_error_can_add_headers_to_the_answer():
    class SlowDown(DomainError):
        status_code = 429
        code = "slow_down"
        message = "Wait."

        def response_headers(self) -> dict[str, str]:
            return {"Retry-After": "4"}

    response = exception_handler(SlowDown(), {})

    assert (response.status_code, response["Retry-After"]) == (429, "4")
