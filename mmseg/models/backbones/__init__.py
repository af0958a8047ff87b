from .mix_transformer import MIT_VARIANTS, MixVisionTransformer
from .resnest import ResNeSt
from .resnet import ResNet, ResNetV1c, ResNetV1d

__all__ = ['MIT_VARIANTS', 'MixVisionTransformer', 'ResNeSt', 'ResNet', 'ResNetV1c', 'ResNetV1d']
