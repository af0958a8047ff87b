from .advseg import AdvSeg
from .ckd import CKD
from .dacs import DACS
from .fc_discriminator import FCDiscriminator
from .masking_consistency_module import MaskingConsistencyModule
from .minent import MinEnt
from .st import ST
from .uda_decorator import UDADecorator

__all__ = ['AdvSeg', 'CKD', 'DACS', 'FCDiscriminator', 'MaskingConsistencyModule', 'MinEnt', 'ST', 'UDADecorator']
