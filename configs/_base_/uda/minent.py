# MinEnt (after ADVENT): minimisation of the entropy of the target predictions (reference: MIC
# configs/_base_/uda/minent.py; spec §7). The reference trains it with SGD (lr 0.0025, no head multiplier,
# _base_/schedules/sgd.py) on colour-augmented source data (the gtaCAug data sets).
_base_ = ['output_space.py']
uda = dict(
    type='MinEnt',
    # loss = lambda * -sum(p * log2(p + 1e-30)) / (N * H * W * log2 C) of the target softmax, per output
    lambda_ent=dict(main=0.001, aux=0.0002),
)
