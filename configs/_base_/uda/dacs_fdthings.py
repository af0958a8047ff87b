# DACS with the ImageNet feature distance on the "thing" classes (DAFormer Table 5, "FD Things"):
# cells whose 32x32 label patch is >= 75 % one of them; teacher momentum 0.99 of dacs.py (0.999 is
# dacs_a999_fdthings.py). Reference: configs/_base_/uda/dacs_fdthings.py. The reference file also sets
# imnet_feature_dist_scale_method='ratio', which its DACS never reads; that key is not accepted here.
_base_ = ['dacs.py']
uda = dict(
    imnet_feature_dist_lambda=0.005,
    # traffic light, traffic sign, person, rider, car, truck, bus, train, motorcycle, bicycle
    imnet_feature_dist_classes=[6, 7, 11, 12, 13, 14, 15, 16, 17, 18],
    imnet_feature_dist_scale_min_ratio=0.75,
)
