"""Linear embedding of a feature map's tokens (``MLP`` of the reference SegFormer/DAFormer heads)."""
import torch
from torch import nn


class MLP(nn.Module):
    """Flatten (B, C, H, W) to tokens (B, H·W, C) and apply one Linear; returns tokens."""

    def __init__(self, input_dim: int = 2048, embed_dim: int = 768):
        super().__init__()
        self.proj = nn.Linear(input_dim, embed_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x.flatten(2).transpose(1, 2).contiguous())
