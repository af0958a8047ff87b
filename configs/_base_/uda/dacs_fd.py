# DACS with the ImageNet feature distance on every feature cell (DAFormer Table 5, "FD"): no class
# mask, so no scale_min_ratio; teacher momentum 0.99 of dacs.py. Reference: configs/_base_/uda/dacs_fd.py.
_base_ = ['dacs.py']
uda = dict(
    imnet_feature_dist_lambda=0.005,  # builds the frozen ImageNet model
    imnet_feature_dist_classes=None,  # all classes: the plain mean over all cells
    imnet_feature_dist_scale_min_ratio=None,
)
