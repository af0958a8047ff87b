"""Models: backbones, necks, decode heads, losses, segmentors, UDA wrappers (``mmseg.registry.MODELS``)."""
from . import backbones, decode_heads, losses, necks, segmentors, uda  # noqa: F401
from .data_preprocessor import SegDataPreProcessor

__all__ = ['SegDataPreProcessor']
