# DAFormer decoder study, "context only at F4": the neck replaces the last level by the stage-4
# map upsampled x8; that level gets a raw 1x1 conv followed by separable ASPP, the fusion is a
# 1x1 ConvModule. Reference: daformer_sepaspp_bottleneck_mitb5.py.
_base_ = ['daformer_sepaspp_mitb5.py']
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    neck=dict(type='SegFormerAdapter', out_layers=[3], scales=[8]),
    decode_head=dict(
        decoder_params=dict(
            embed_neck_cfg=dict(
                _delete_=True,
                type='rawconv_and_aspp',
                kernel_size=1,
                sep=True,
                dilations=(1, 6, 12, 18),
                pool=False,
                act_cfg=dict(type='ReLU'),
                norm_cfg=norm_cfg),
            fusion_cfg=dict(
                _delete_=True,
                type='conv',
                kernel_size=1,
                act_cfg=dict(type='ReLU'),
                norm_cfg=norm_cfg))))
