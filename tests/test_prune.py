"Pruning a trained run from the store: the input model is untouched, K = 0 is the model itself, units are named."
import re

import torch

import ftmech.train as train
from ftmech.profiles import profile_params
from ftmech.prune import prune, prune_curve, saliency
from ftmech.store import Store


def test_prune_curve_on_a_finetuned_run(tmp_path):
    store = Store(tmp_path)
    p = profile_params("pretrain", "smoke", steps=20, eval_every=10, ckpt_every=10)
    pt = train.pretrain(store, *train.pretrain_setup(p, "low"), progress=False)
    f = profile_params("finetune", "smoke", steps=10, eval_every=10, ckpt_every=10)
    ft = train.finetune(store, pt, train.finetune_data(f, pt), train.train_config(f), progress=False)
    model = ft.load_model()
    sets = train.build_eval_sets(ft.config["evals"], 64)
    pt_set = sets["acc_pt_cte0"]
    pt_loss = lambda m: train.loss_fn(m, pt_set, "answer")
    evals = {name: (lambda m, b=b: float(train.accuracy(m, b))) for name, b in sets.items()}
    before = {k: v.clone() for k, v in model.state_dict().items()}
    curve = prune_curve(model, pt_loss, evals, ks=[0, 1, 5])
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # not mutated
    assert curve[0]["acc_pt_cte0"] == ft.final_metrics()["acc_pt_cte0"] and curve[0]["units"] == []
    assert len(curve[2]["units"]) == 5 and all(re.fullmatch(r"blocks\.\d+\.(attn|mlp)\.\w+\[\d+\]", u) for u in curve[2]["units"])
    ranked = saliency(model, pt_loss)
    pruned = prune(model, ranked[:5])
    zeroed = dict(pruned.named_parameters())
    assert all(torch.all(zeroed[u.param][u.index] == 0) for u in ranked[:5])
    # first-order prediction: pruning the top unit lowers the loss it was ranked by (checked on the same batch)
    assert pt_loss(prune(model, ranked[:1])).item() < pt_loss(model).item() + 1e-6
