"""Validation of the keys of a nested config dict."""
from typing import Mapping, Sequence


def check_config_keys(cfg: Mapping, allowed: Sequence[str], name: str) -> None:
    """Raise ``ValueError`` naming ``name`` and the keys of ``cfg`` that are not in ``allowed``."""
    unknown = set(cfg) - set(allowed)
    if unknown:
        raise ValueError(f'{name}: unknown keys {sorted(unknown)}; expected {", ".join(allowed)}')
