# DACS as in DAFormer/HRDA/MIC: teacher momentum 0.999 and the ImageNet feature distance on the
# "thing" classes (cells whose 32x32 label patch is >= 75 % one of them). Reference:
# configs/_base_/uda/dacs_a999_fdthings.py.
_base_ = ['dacs.py']
uda = dict(
    alpha=0.999,
    imnet_feature_dist_lambda=0.005,
    # traffic light, traffic sign, person, rider, car, truck, bus, train, motorcycle, bicycle
    imnet_feature_dist_classes=[6, 7, 11, 12, 13, 14, 15, 16, 17, 18],
    imnet_feature_dist_scale_min_ratio=0.75,
)
