from .mix_transformer import MIT_VARIANTS, MixVisionTransformer
from .resnet import ResNet, ResNetV1c, ResNetV1d

__all__ = ['MIT_VARIANTS', 'MixVisionTransformer', 'ResNet', 'ResNetV1c', 'ResNetV1d']
