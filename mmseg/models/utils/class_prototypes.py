"""Class prototypes of DDB: running class means of a segmentor's features (the reference's ``ClassFeatures`` of
``tools/cal_prototypes``, spec ebda-cdda-ddb §3.5).

Per image and class c of the hard prediction ``A_c = [argmax softmax = c]``: skipped when fewer than ``min_pixels``
(10) pixels are predicted as c; else the class-mean feature ``v = Σ F·A_c / Σ A_c`` (the reference's
``mean(F·A_c) / mean(A_c)``; all classes of a batch in one product). A vector whose sum is
0 is skipped; otherwise the prototype is updated as a running mean, ``P_c ← (P_c·n_c + v) / (n_c + 1)``, and the
count ``n_c ← min(n_c + 1, max_count)`` (3000): the exact mean of the first 3000 vectors, then an exponential
average with momentum 3000/3001. Classes never predicted keep a zero prototype.
"""
from typing import List, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

MIN_PIXELS = 10
MAX_COUNT = 3000


class ClassPrototypes:
    """Prototypes [num_classes, channels] and their counts [num_classes] (float, as the reference)."""

    def __init__(self, num_classes: int, channels: int, min_pixels: int = MIN_PIXELS, max_count: int = MAX_COUNT,
                 device: torch.device = torch.device('cpu')):
        self.num_classes = num_classes
        self.min_pixels = min_pixels
        self.max_count = max_count
        self.prototypes = torch.zeros((num_classes, channels), device=device)
        self.counts = torch.zeros(num_classes, device=device)

    def class_mean_vectors(self, logits: Tensor, features: Tensor) -> Tuple[List[int], List[Tensor]]:
        """(class ids, class-mean feature vectors) of a batch (B x C x H x W logits, B x F x H x W features at the
        same size), in image-then-class order."""
        prediction = F.softmax(logits, dim=1).argmax(dim=1)
        masks = F.one_hot(prediction, self.num_classes).permute(0, 3, 1, 2).to(features.dtype)
        counts = masks.sum(dim=(2, 3))
        sums = torch.einsum('bchw,bfhw->bcf', masks, features)  # per image and class: the sum of its features
        ids, vectors = [], []
        for n, c in (counts >= self.min_pixels).nonzero().tolist():  # image-then-class order
            vectors.append(sums[n, c] / counts[n, c])
            ids.append(c)
        return ids, vectors

    def add(self, class_id: int, vector: Tensor) -> None:
        """The running-mean update of one class with one vector (skipped if the vector sums to 0)."""
        if vector.sum().item() == 0:
            return
        count = self.counts[class_id]
        self.prototypes[class_id] = (self.prototypes[class_id] * count + vector) / (count + 1)
        self.counts[class_id] = torch.clamp(count + 1, max=self.max_count)

    def update(self, logits: Tensor, features: Tensor) -> Tuple[List[int], List[Tensor]]:
        """Add the class-mean vectors of a batch; returns them (ids, vectors)."""
        ids, vectors = self.class_mean_vectors(logits, features)
        for class_id, vector in zip(ids, vectors):
            self.add(class_id, vector)
        return ids, vectors
