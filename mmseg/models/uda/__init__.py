from .advseg import AdvSeg
from .dacs import DACS
from .fc_discriminator import FCDiscriminator
from .masking_consistency_module import MaskingConsistencyModule
from .minent import MinEnt
from .uda_decorator import UDADecorator

__all__ = ['AdvSeg', 'DACS', 'FCDiscriminator', 'MaskingConsistencyModule', 'MinEnt', 'UDADecorator']
