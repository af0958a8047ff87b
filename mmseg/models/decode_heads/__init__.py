from .daformer_head import DAFormerHead
from .decode_head import BaseDecodeHead
from .dlv2_head import DLV2Head
from .hrda_head import HRDAHead
from .segformer_head import SegFormerHead

__all__ = ['BaseDecodeHead', 'DAFormerHead', 'DLV2Head', 'HRDAHead', 'SegFormerHead']
