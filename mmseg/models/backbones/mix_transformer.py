"""Mix Transformer (MiT), the SegFormer encoder, exactly as DAFormer's ``mix_transformer.py``.

Module and parameter names follow the SegFormer ImageNet checkpoints (``mit_b5.pth``), so those
load without conversion. Spec: ``shared/spec/daformer-hrda-mic.md`` §1.
"""
import math
from functools import partial
from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F
import torch.utils.checkpoint as activation_checkpoint
from mmengine.logging import print_log
from mmengine.model import BaseModule
from torch import nn

from mmseg.registry import MODELS
from ..utils.drop_path import DropPath
from ..utils.pretrained import load_state_dict_checked, read_state_dict

ATTENTION_IMPLEMENTATIONS = ('sdpa', 'math')


def init_mit_weights(m: nn.Module) -> None:
    """The reference initialisation: trunc-normal Linear, unit LayerNorm, He-normal conv (fan-out)."""
    if isinstance(m, nn.Linear):
        nn.init.trunc_normal_(m.weight, std=.02)
        if m.bias is not None:
            nn.init.constant_(m.bias, 0)
    elif isinstance(m, nn.LayerNorm):
        nn.init.constant_(m.bias, 0)
        nn.init.constant_(m.weight, 1.0)
    elif isinstance(m, nn.Conv2d):
        fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels // m.groups
        m.weight.data.normal_(0, math.sqrt(2.0 / fan_out))
        if m.bias is not None:
            m.bias.data.zero_()


class DWConv(nn.Module):
    """Depth-wise 3x3 convolution on the token map (inside Mix-FFN)."""

    def __init__(self, dim: int):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 3, 1, 1, bias=True, groups=dim)

    def forward(self, x: torch.Tensor, H: int, W: int) -> torch.Tensor:
        B, N, C = x.shape
        x = x.transpose(1, 2).view(B, C, H, W)
        return self.dwconv(x).flatten(2).transpose(1, 2)


class MixFFN(nn.Module):
    """fc1 -> depth-wise conv -> GELU -> dropout -> fc2 -> dropout."""

    def __init__(self, in_features: int, hidden_features: int, drop: float = 0.):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.dwconv = DWConv(hidden_features)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_features, in_features)
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor, H: int, W: int) -> torch.Tensor:
        x = self.drop(self.act(self.dwconv(self.fc1(x), H, W)))
        return self.drop(self.fc2(x))


class EfficientSelfAttention(nn.Module):
    """Multi-head attention whose keys/values come from a spatially reduced (conv stride sr) map.

    ``attn_impl='sdpa'`` runs ``scaled_dot_product_attention`` (fused kernels on GPU); ``'math'``
    is the reference's explicit softmax(q kᵀ · scale) v.
    """

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = False, qk_scale: Optional[float] = None,
                 attn_drop: float = 0., proj_drop: float = 0., sr_ratio: int = 1, attn_impl: str = 'sdpa'):
        super().__init__()
        if dim % num_heads != 0:
            raise ValueError(f'dim {dim} must be divisible by num_heads {num_heads}')
        if attn_impl not in ATTENTION_IMPLEMENTATIONS:
            raise ValueError(f'attn_impl={attn_impl!r}; expected one of {ATTENTION_IMPLEMENTATIONS}')
        self.num_heads = num_heads
        self.scale = qk_scale or (dim // num_heads)**-0.5
        self.attn_impl = attn_impl
        self.q = nn.Linear(dim, dim, bias=qkv_bias)
        self.kv = nn.Linear(dim, dim * 2, bias=qkv_bias)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)
        self.sr_ratio = sr_ratio
        if sr_ratio > 1:
            self.sr = nn.Conv2d(dim, dim, kernel_size=sr_ratio, stride=sr_ratio)
            self.norm = nn.LayerNorm(dim)  # default eps 1e-5, as the reference

    def forward(self, x: torch.Tensor, H: int, W: int) -> torch.Tensor:
        B, N, C = x.shape
        head_dim = C // self.num_heads
        q = self.q(x).reshape(B, N, self.num_heads, head_dim).permute(0, 2, 1, 3)
        if self.sr_ratio > 1:
            x_ = x.permute(0, 2, 1).reshape(B, C, H, W)
            x_ = self.norm(self.sr(x_).reshape(B, C, -1).permute(0, 2, 1))
        else:
            x_ = x
        kv = self.kv(x_).reshape(B, -1, 2, self.num_heads, head_dim).permute(2, 0, 3, 1, 4)
        k, v = kv[0], kv[1]
        if self.attn_impl == 'sdpa':
            # attention dropout follows its Dropout module, as in the math path, so that a teacher's
            # dropout switch (``attn_drop.training = False``) turns it off
            dropout_p = self.attn_drop.p if self.attn_drop.training else 0.
            x = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p, scale=self.scale)
        else:
            attn = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
            x = self.attn_drop(attn) @ v
        x = x.transpose(1, 2).reshape(B, N, C)
        return self.proj_drop(self.proj(x))


class Block(nn.Module):
    """Pre-norm transformer block: x + DropPath(Attn(LN(x))), then x + DropPath(MixFFN(LN(x)))."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4., qkv_bias: bool = False,
                 qk_scale: Optional[float] = None, drop: float = 0., attn_drop: float = 0.,
                 drop_path: float = 0., norm_layer=nn.LayerNorm, sr_ratio: int = 1, attn_impl: str = 'sdpa'):
        super().__init__()
        self.norm1 = norm_layer(dim)
        self.attn = EfficientSelfAttention(dim, num_heads=num_heads, qkv_bias=qkv_bias, qk_scale=qk_scale,
                                           attn_drop=attn_drop, proj_drop=drop, sr_ratio=sr_ratio,
                                           attn_impl=attn_impl)
        self.drop_path = DropPath(drop_path) if drop_path > 0. else nn.Identity()
        self.norm2 = norm_layer(dim)
        self.mlp = MixFFN(dim, int(dim * mlp_ratio), drop=drop)

    def forward(self, x: torch.Tensor, H: int, W: int) -> torch.Tensor:
        x = x + self.drop_path(self.attn(self.norm1(x), H, W))
        return x + self.drop_path(self.mlp(self.norm2(x), H, W))


class OverlapPatchEmbed(nn.Module):
    """Strided convolution with overlapping patches, then LayerNorm (default eps 1e-5) on the tokens."""

    def __init__(self, patch_size: int, stride: int, in_chans: int, embed_dim: int):
        super().__init__()
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=stride, padding=patch_size // 2)
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, x: torch.Tensor):
        x = self.proj(x)
        _, _, H, W = x.shape
        return self.norm(x.flatten(2).transpose(1, 2)), H, W


@MODELS.register_module()
class MixVisionTransformer(BaseModule):
    """Four-stage hierarchical transformer returning maps at strides 4, 8, 16 and 32.

    Args:
        pretrained: path of an ImageNet checkpoint in SegFormer naming, loaded by
            :meth:`init_weights` instead of the random initialisation.
        attn_impl: ``'sdpa'`` (default) or ``'math'`` (the reference's explicit attention).
        with_cp: activation checkpointing of the transformer blocks in training: their activations
            are recomputed in the backward pass instead of stored (less memory, about a third more
            compute; same values, drop-path draws replayed).
        style, img_size, patch_size: accepted for config compatibility; unused, as in the reference.
    """

    def __init__(self, in_chans: int = 3, embed_dims: Sequence[int] = (64, 128, 256, 512),
                 num_heads: Sequence[int] = (1, 2, 4, 8), mlp_ratios: Sequence[float] = (4, 4, 4, 4),
                 qkv_bias: bool = False, qk_scale: Optional[float] = None, drop_rate: float = 0.,
                 attn_drop_rate: float = 0., drop_path_rate: float = 0., norm_eps: float = 1e-6,
                 depths: Sequence[int] = (3, 4, 6, 3), sr_ratios: Sequence[int] = (8, 4, 2, 1),
                 pretrained: Optional[str] = None, attn_impl: str = 'sdpa', with_cp: bool = False,
                 freeze_patch_embed: bool = False,
                 style: Optional[str] = None, img_size: int = 224, patch_size: int = 4,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.in_chans = in_chans
        self.embed_dims = list(embed_dims)
        self.depths = list(depths)
        self.pretrained = pretrained
        self.with_cp = with_cp
        norm_layer = partial(nn.LayerNorm, eps=norm_eps)
        dpr = torch.linspace(0, drop_path_rate, sum(depths), device='cpu').tolist()
        cur = 0
        for i in range(4):
            patch_embed = OverlapPatchEmbed(patch_size=7 if i == 0 else 3, stride=4 if i == 0 else 2,
                                            in_chans=in_chans if i == 0 else embed_dims[i - 1],
                                            embed_dim=embed_dims[i])
            setattr(self, f'patch_embed{i + 1}', patch_embed)
        for i in range(4):
            blocks = nn.ModuleList([
                Block(dim=embed_dims[i], num_heads=num_heads[i], mlp_ratio=mlp_ratios[i], qkv_bias=qkv_bias,
                      qk_scale=qk_scale, drop=drop_rate, attn_drop=attn_drop_rate, drop_path=dpr[cur + j],
                      norm_layer=norm_layer, sr_ratio=sr_ratios[i], attn_impl=attn_impl)
                for j in range(depths[i])
            ])
            cur += depths[i]
            setattr(self, f'block{i + 1}', blocks)
            setattr(self, f'norm{i + 1}', norm_layer(embed_dims[i]))
        self.apply(init_mit_weights)
        if freeze_patch_embed:
            self.patch_embed1.requires_grad_(False)

    def init_weights(self) -> None:
        """Random reference initialisation, or the ImageNet weights of ``pretrained``."""
        if self.pretrained is None:
            self.apply(init_mit_weights)
            return
        print_log(f'Load MiT weights from {self.pretrained}', logger='current')
        load_state_dict_checked(self, read_state_dict(self.pretrained), source=str(self.pretrained),
                                ignore_prefixes=('head.', ))

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        if x.dim() != 4 or x.shape[1] != self.in_chans:
            raise ValueError(f'{type(self).__name__} input: expected a (B, {self.in_chans}, H, W) image tensor, '
                             f'got shape {tuple(x.shape)}')
        B = x.shape[0]
        outs = []
        for i in range(1, 5):
            x, H, W = getattr(self, f'patch_embed{i}')(x)
            for blk in getattr(self, f'block{i}'):
                if self.with_cp and self.training and x.requires_grad:
                    x = activation_checkpoint.checkpoint(blk, x, H, W, use_reentrant=False)
                else:
                    x = blk(x, H, W)
            x = getattr(self, f'norm{i}')(x)
            x = x.reshape(B, H, W, -1).permute(0, 3, 1, 2).contiguous()
            outs.append(x)
        return outs


MIT_VARIANTS = {
    'mit_b0': dict(embed_dims=[32, 64, 160, 256], depths=[2, 2, 2, 2]),
    'mit_b1': dict(embed_dims=[64, 128, 320, 512], depths=[2, 2, 2, 2]),
    'mit_b2': dict(embed_dims=[64, 128, 320, 512], depths=[3, 4, 6, 3]),
    'mit_b3': dict(embed_dims=[64, 128, 320, 512], depths=[3, 4, 18, 3]),
    'mit_b4': dict(embed_dims=[64, 128, 320, 512], depths=[3, 8, 27, 3]),
    'mit_b5': dict(embed_dims=[64, 128, 320, 512], depths=[3, 6, 40, 3]),
}
"""Per-variant hyper-parameters; all share heads (1, 2, 5, 8), MLP ratio 4, SR (8, 4, 2, 1), drop-path 0.1."""


def _register_variant(name: str, arch: dict) -> None:

    def __init__(self, **kwargs):
        MixVisionTransformer.__init__(self, num_heads=[1, 2, 5, 8], mlp_ratios=[4, 4, 4, 4], qkv_bias=True,
                                      norm_eps=1e-6, sr_ratios=[8, 4, 2, 1], drop_rate=0.0,
                                      drop_path_rate=kwargs.pop('drop_path_rate', 0.1), **arch, **kwargs)

    cls = type(name, (MixVisionTransformer, ), dict(__init__=__init__, __doc__=f'MiT variant {name}: {arch}.'))
    MODELS.register_module(name=name, module=cls)
    globals()[name] = cls


for _name, _arch in MIT_VARIANTS.items():
    _register_variant(_name, _arch)
