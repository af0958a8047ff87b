# DDB step 1, self-training teachers (reference configs/_base_/uda/st.py): mean teacher on domain-bridged images.
# `model` and `max_iters` are filled in from the experiment config. Train on a DomainBridgingDataset.
uda = dict(
    type='ST',
    alpha=0.99,  # EMA momentum (DAFormer: 0.999)
    pseudo_threshold=0.968,  # confidence for the pseudo-label weight q (one scalar per batch)
    pseudo_weight_ignore_top=0,
    pseudo_weight_ignore_bottom=0,
    distilled_model_path=None,  # Round 2: the CKD checkpoint whose student initialises the student and teacher
    imnet_feature_dist_lambda=0,  # no ImageNet feature distance in DDB
    imnet_feature_dist_classes=None,
    imnet_feature_dist_scale_min_ratio=None,
    print_grad_magnitude=False,
    debug_img_interval=1000)  # <work_dir>/class_mix_debug panels
use_ddp_wrapper = True
