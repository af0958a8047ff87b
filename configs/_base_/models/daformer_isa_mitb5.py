# DAFormer decoder study: fusion by interlaced sparse self-attention (ISA) with one key/query
# conv and 8x8 groups. Reference: daformer_isa_mitb5.py.
_base_ = ['daformer_sepaspp_mitb5.py']
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    decode_head=dict(
        decoder_params=dict(
            fusion_cfg=dict(
                _delete_=True,
                type='isa',
                isa_channels=256,
                key_query_num_convs=1,
                down_factor=(8, 8),
                act_cfg=dict(type='ReLU'),
                norm_cfg=norm_cfg))))
