"""UDA for semantic segmentation: DAFormer, HRDA, MIC and successors on PyTorch 2.x + mmengine."""
from .package_check import check_no_mmsegmentation

__version__ = '0.1.0'
check_no_mmsegmentation()
