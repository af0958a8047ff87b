from .encoder_decoder import EncoderDecoder
from .hrda_encoder_decoder import HRDAEncoderDecoder
from .uda_encoder_decoder import UDAEncoderDecoder

__all__ = ['EncoderDecoder', 'HRDAEncoderDecoder', 'UDAEncoderDecoder']
