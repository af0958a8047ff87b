"""Helpers shared by the pipeline transforms."""
from typing import List

from .depth_loading import DEPTH_MAP


def seg_field_keys(results: dict) -> List[str]:
    """The label-map keys to transform with the image: ``results['seg_fields']`` plus ``gt_seg_map`` if present.

    ``LoadAnnotations`` registers ``gt_seg_map`` in ``seg_fields``; other label-like maps (e.g. a
    valid-pixel mask) join by appending their key, so crops and flips stay aligned with the image.
    """
    keys = list(results.get('seg_fields', []))
    if 'gt_seg_map' in results and 'gt_seg_map' not in keys:
        keys.append('gt_seg_map')
    return keys


def geometric_keys(results: dict) -> List[str]:
    """:func:`seg_field_keys` plus the depth map (``gt_depth_map``) if present: the maps that are cropped and
    flipped with the image."""
    return seg_field_keys(results) + ([DEPTH_MAP] if DEPTH_MAP in results else [])
