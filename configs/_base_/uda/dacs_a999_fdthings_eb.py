# EBDA: DACS (a999, FD on thing classes) plus entropy balancing: 0.1 * mean((H - 0.4)^2) of the
# student's softmax on the mixed image (spec ebda-cdda-ddb §1.1). second_forward=True is the reference:
# a second stochastic forward of the (augmented) mixed image after the mixed backward, with its own
# backward. second_forward=False reuses the logits of the mixed-image forward (one forward less, same
# formula, but not the reference's dropout / drop-path draw).
_base_ = ['dacs_a999_fdthings.py']
uda = dict(entropy_balance=dict(target=0.4, weight=0.1, second_forward=True))
