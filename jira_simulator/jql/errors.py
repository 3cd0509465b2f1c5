"""Invalid JQL and the messages Jira answers with."""

from __future__ import annotations


class JqlError(ValueError):
    """Invalid JQL; `messages` are Jira's `errorMessages`."""

    def __init__(self, *messages: str) -> None:
        super().__init__(" ".join(messages))
        self.messages = list(messages)


UNBOUNDED = "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
OPERATORS_TEXT = (
    "The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'."
)
DATE_FORMATS_TEXT = (
    "Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', "
    "or a period format e.g. '-5d', '4w 2d'."
)


def field_error(name: str) -> JqlError:
    return JqlError(f"Field '{name}' does not exist or you do not have permission to view it.")


def value_error(value: str, field_name: str) -> JqlError:
    return JqlError(f"The value '{value}' does not exist for the field '{field_name}'.")


def operator_error(operator: str, field_name: str) -> JqlError:
    return JqlError(f"The operator '{operator.upper()}' is not supported by the '{field_name}' field.")
