"""The one error of the dataset-preparation verbs (list, resize, check), and reading their input
files into it."""

import json
from collections.abc import Iterator
from contextlib import contextmanager

from timesformer.errors import TimesformerError


class PreparationError(TimesformerError, ValueError):
    """A mistake in a preparation verb's input, told in one line naming the file (and line, where
    there is one) or the option at fault and what was expected. The command line exits with
    status 2: the verb could not do its work."""

    exit_status = 2


@contextmanager
def reading(path: str) -> Iterator[None]:
    """Turn the errors of reading the text file ``path`` in the block (not UTF-8, cannot be
    opened or read) into a :class:`PreparationError` naming it."""
    try:
        yield
    except UnicodeDecodeError:
        raise PreparationError(f"{path}: not UTF-8 text; expected a UTF-8 text file") from None
    except OSError as error:
        raise PreparationError(f"{path}: cannot be read ({error.strerror or error})") from None


def read_json_list(path: str, entries: str) -> list:
    """The JSON list of ``path``; ``entries`` says what it should hold (for the message).

    Raises:
        PreparationError: the file cannot be read, is not valid JSON, or is not a list.
    """
    with reading(path), open(path, encoding="utf-8-sig") as stream:
        try:
            data = json.load(stream)
        except json.JSONDecodeError as error:
            raise PreparationError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(data, list):
        raise PreparationError(f"{path}: expected a JSON list of {entries}")
    return data
