# DAFormer decoder study, "DAFormer w/o DSC": ASPP fusion with dense (not depthwise-separable)
# 3x3 atrous convolutions. Reference: daformer_aspp_mitb5.py.
_base_ = ['daformer_sepaspp_mitb5.py']
model = dict(decode_head=dict(decoder_params=dict(fusion_cfg=dict(sep=False))))
