"""Error messages for unknown configuration keys that suggest the nearest known key."""
import difflib
from typing import Iterable


def unknown_keys_message(owner: str, unknown: Iterable[str], known: Iterable[str], list_known: bool = True) -> str:
    """``<owner>: unknown key(s) 'x' (did you mean 'y'?); known: ...`` (the list only with ``list_known``)."""
    known = sorted(set(known))
    described = []
    for key in sorted(unknown):
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        described.append(f"'{key}'" + (f" (did you mean '{close[0]}'?)" if close else ''))
    message = f'{owner}: unknown key(s) {", ".join(described)}'
    return message + (f'; known: {", ".join(known)}' if list_known else '')
