"""Label downscaling with a minimum class ratio (DAFormer ``mmseg/utils/utils.py``)."""
import torch
import torch.nn.functional as F
from torch import Tensor


def downscale_label_ratio(gt: Tensor, scale_factor: int, min_ratio: float, n_classes: int,
                          ignore_index: int = 255) -> Tensor:
    """Downscale an int label map (B x 1 x H x W) by ``scale_factor`` by majority per cell.

    Each cell takes its most frequent class (ignore counted as an extra class; ties go to the
    lower class id); it becomes ``ignore_index`` if that class is the ignore class or covers
    less than ``min_ratio`` of the cell. Returns int64 B x 1 x H//scale_factor x W//scale_factor.
    """
    assert scale_factor > 1
    bs, orig_c, orig_h, orig_w = gt.shape
    assert orig_c == 1
    ignore_substitute = n_classes
    out = gt.clone().long()
    out[out == ignore_index] = ignore_substitute
    out = F.one_hot(out.squeeze(1), num_classes=n_classes + 1).permute(0, 3, 1, 2)
    out = F.avg_pool2d(out.float(), kernel_size=scale_factor)
    gt_ratio, out = torch.max(out, dim=1, keepdim=True)
    out[out == ignore_substitute] = ignore_index
    out[gt_ratio < min_ratio] = ignore_index
    assert out.shape == (bs, 1, orig_h // scale_factor, orig_w // scale_factor), out.shape
    return out
