"""UDA for semantic segmentation: DAFormer, HRDA, MIC and successors on PyTorch 2.x + mmengine."""
__version__ = '0.1.0'
