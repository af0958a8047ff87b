"""Data sets (one file per benchmark) and pipeline transforms; importing registers them.

``conversion`` (label converters) and ``rare_class_sampling`` are imported where used.
"""
from . import transforms  # noqa: F401  (registers the transforms)
from .acdc import ACDCDataset
from .basesegdataset import BaseSegDataset
from .bridging_dataset import DomainBridgingDataset
from .cityscapes import CITYSCAPES_CLASSES, CITYSCAPES_PALETTE, CityscapesDataset
from .dark_zurich import DarkZurichDataset
from .foggy_cityscapes import FoggyCityscapesDataset
from .gta import GTADataset
from .mapillary import MapillaryDataset
from .multi_target_dataset import MultiTargetDataset
from .rain_cityscapes import RainCityscapesDataset
from .synscapes import SynscapesDataset
from .synthia import SynthiaDataset
from .uda_dataset import UDADataset

__all__ = [
    'ACDCDataset', 'BaseSegDataset', 'CITYSCAPES_CLASSES', 'CITYSCAPES_PALETTE', 'CityscapesDataset',
    'DarkZurichDataset', 'DomainBridgingDataset', 'FoggyCityscapesDataset', 'GTADataset', 'MapillaryDataset',
    'MultiTargetDataset', 'RainCityscapesDataset', 'SynscapesDataset', 'SynthiaDataset', 'UDADataset'
]
