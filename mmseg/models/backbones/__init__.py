from .mix_transformer import MIT_VARIANTS, MixVisionTransformer

__all__ = ['MIT_VARIANTS', 'MixVisionTransformer']
