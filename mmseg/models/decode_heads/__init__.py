from .da_head import DAHead
from .daformer_head import DAFormerHead
from .decode_head import BaseDecodeHead
from .dlv2_adapter_head import DLV2AdapterHead
from .dlv2_head import DLV2Head
from .hrda_head import HRDAHead
from .isa_head import ISAHead
from .segformer_head import SegFormerHead
from .sep_aspp_head import DepthwiseSeparableASPPHead
from .uper_head import UPerHead

__all__ = ['BaseDecodeHead', 'DAFormerHead', 'DAHead', 'DepthwiseSeparableASPPHead', 'DLV2AdapterHead', 'DLV2Head',
           'HRDAHead', 'ISAHead', 'SegFormerHead', 'UPerHead']
