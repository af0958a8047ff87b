from .encoder_decoder import EncoderDecoder
from .hrda_encoder_decoder import HRDAEncoderDecoder

__all__ = ['EncoderDecoder', 'HRDAEncoderDecoder']
