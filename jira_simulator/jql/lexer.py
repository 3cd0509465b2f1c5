"""JQL's tokens: quoted strings, operators and words, with their 1-based positions for messages."""

from __future__ import annotations

import re
from dataclasses import dataclass

from jira_simulator.jql.errors import JqlError

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>!=|>=|<=|!~|=|>|<|~|\(|\)|,|&&|\|\||!)
      | (?P<word>[^\s"'=!<>~(),&|]+)
    )""",
    re.VERBOSE,
)
KEYWORDS = {"and", "or", "not", "in", "is", "empty", "null", "order", "by", "asc", "desc"}


@dataclass(frozen=True)
class Token:
    kind: str  # string | op | word | end
    text: str
    position: int  # 1-based character position

    @property
    def keyword(self) -> str | None:
        return self.text.lower() if self.kind == "word" and self.text.lower() in KEYWORDS else None


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            remainder = text[position:].lstrip()
            start = len(text) - len(remainder)
            if remainder.startswith(('"', "'")):
                raise JqlError(
                    f"Error in the JQL Query: The quoted string '{remainder[1:]}' has not been completed. "
                    f"(line 1, character {start + 1})"
                )
            raise JqlError(
                f"Error in the JQL Query: The character '{remainder[0]}' is a reserved JQL character. "
                f"You must enclose it in a string or use the escape '\\u{ord(remainder[0]):04x}' instead. "
                f"(line 1, character {start + 1})"
            )
        kind = match.lastgroup or "word"
        value = match.group(kind)
        start = match.start(kind)
        if kind == "string":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        tokens.append(Token(kind, value, start + 1))
        position = match.end()
    tokens.append(Token("end", "", len(text) + 1))
    return tokens
