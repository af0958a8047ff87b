# DDB step 2, cross-path knowledge distillation (reference configs/_base_/uda/ckd.py): a fresh student learns from the
# frozen ST-cu and ST-ca students. `model` and `max_iters` come from the experiment config; the released configs set
# proto_rectify=True and the checkpoint and prototype paths (the DDB pipeline hands them over).
uda = dict(
    type='CKD',
    pseudo_threshold=0.968,  # used with use_pl_weight only
    teacher_model_cfg=None,  # None: the teachers have the student's architecture
    cu_model_load_from='',  # ST-cu checkpoint (its student, model.*, is the coarse-region teacher)
    ca_model_load_from='',  # ST-ca checkpoint (the fine-class teacher)
    soft_distill=False,  # hard pseudo-labels (the soft KL loss is unused in the releases)
    soft_distill_w=0.1,
    proto_rectify=False,
    rectify_on_prob=True,  # rectification multiplies the probabilities (not renormalised)
    use_pl_weight=False,  # every pixel weight 1
    temp=1,
    cu_proto_path='',  # prototypes of the ST-cu student (tools/compute_prototypes.py)
    ca_proto_path='',
    imnet_feature_dist_lambda=0,
    imnet_feature_dist_classes=None,
    imnet_feature_dist_scale_min_ratio=None,
    debug_img_interval=1000)
use_ddp_wrapper = True
