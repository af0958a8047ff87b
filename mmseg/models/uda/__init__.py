from .dacs import DACS
from .uda_decorator import UDADecorator

__all__ = ['DACS', 'UDADecorator']
