from .dacs import DACS
from .masking_consistency_module import MaskingConsistencyModule
from .uda_decorator import UDADecorator

__all__ = ['DACS', 'MaskingConsistencyModule', 'UDADecorator']
