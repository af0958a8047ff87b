from .segformer_adapter import SegFormerAdapter

__all__ = ['SegFormerAdapter']
