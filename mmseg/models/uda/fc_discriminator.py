"""The fully convolutional discriminator of AdaptSegNet that AdvSeg trains on softmax maps (spec §7).

Five 4x4 convolutions of stride 2 and padding 1, ``num_classes -> ndf -> 2 ndf -> 4 ndf -> 8 ndf -> 1``,
all with bias, a LeakyReLU(0.2) after each of the first four, no normalisation. Each one halves the
spatial size (``n -> floor(n / 2)``), so the input needs at least 32 pixels per side. The output is one
raw score per 32x32 patch: 0 for source, 1 for target in AdvSeg's least-squares GAN. PyTorch's
default initialisation, as the reference (which has no init of its own).
"""
import torch
from torch import nn

from mmseg.registry import MODELS

NUM_CONVS = 5
MIN_INPUT_SIZE = 2**NUM_CONVS


@MODELS.register_module()
class FCDiscriminator(nn.Module):
    """Args: ``num_classes``, channels of the input maps; ``ndf``, channels of the first convolution."""

    def __init__(self, num_classes: int, ndf: int = 64):
        super().__init__()
        if num_classes < 1 or ndf < 1:
            raise ValueError(f'FCDiscriminator num_classes={num_classes}, ndf={ndf}; expected positive numbers')
        self.num_classes = num_classes
        self.conv1 = nn.Conv2d(num_classes, ndf, kernel_size=4, stride=2, padding=1)
        self.conv2 = nn.Conv2d(ndf, ndf * 2, kernel_size=4, stride=2, padding=1)
        self.conv3 = nn.Conv2d(ndf * 2, ndf * 4, kernel_size=4, stride=2, padding=1)
        self.conv4 = nn.Conv2d(ndf * 4, ndf * 8, kernel_size=4, stride=2, padding=1)
        self.classifier = nn.Conv2d(ndf * 8, 1, kernel_size=4, stride=2, padding=1)
        self.leaky_relu = nn.LeakyReLU(negative_slope=0.2, inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, num_classes, H, W) maps -> (B, 1, H / 32, W / 32) scores (sizes rounded down at each layer)."""
        if x.dim() != 4 or x.shape[1] != self.num_classes:
            raise ValueError(f'FCDiscriminator: expected (B, {self.num_classes}, H, W) maps, got {tuple(x.shape)}')
        if min(x.shape[2:]) < MIN_INPUT_SIZE:
            raise ValueError(f'FCDiscriminator: input of {tuple(x.shape[2:])} pixels; its {NUM_CONVS} stride-2 '
                             f'convolutions need at least {MIN_INPUT_SIZE} per side')
        for conv in (self.conv1, self.conv2, self.conv3, self.conv4):
            x = self.leaky_relu(conv(x))
        return self.classifier(x)
