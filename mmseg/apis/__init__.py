"""High-level entry points: checkpoint loading (inference and training APIs follow)."""
from .checkpoint import REFERENCE_REVISE_KEYS, load_checkpoint, revise_keys

__all__ = ['REFERENCE_REVISE_KEYS', 'load_checkpoint', 'revise_keys']
