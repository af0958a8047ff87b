# DAFormer decoder study (DAFormer Table 7), "SegFormer with C_e=256": per-level MLP embeddings
# fused by a single 1x1 ConvModule (BN, ReLU). Reference: daformer_conv1_mitb5.py.
_base_ = ['daformer_sepaspp_mitb5.py']
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    decode_head=dict(
        decoder_params=dict(
            fusion_cfg=dict(
                _delete_=True,
                type='conv',
                kernel_size=1,
                act_cfg=dict(type='ReLU'),
                norm_cfg=norm_cfg))))
