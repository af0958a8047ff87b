"""Top-1 pixel accuracy as the reference logs it (``acc_seg``)."""
import torch


def accuracy(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Percentage of pixels whose argmax equals the label, over **all** pixels (ignored ones count as wrong).

    Returns a 1-element tensor, as the reference.
    """
    pred_label = pred.argmax(dim=1)
    correct = pred_label.eq(target).reshape(-1).float().sum(0, keepdim=True)
    return correct.mul_(100.0 / target.numel())
