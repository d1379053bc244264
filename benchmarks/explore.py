"""Building an attention explorer (`ftmech.explore.attention_explorer`, one figure redrawn by blitting) against drawing
a new matplotlib figure per panel (the baseline: what `explorer` does with a figure-valued panel).

Both render the same patterns of the same models on the same input to PNG at the same size and DPI. Prints a table,
then, as its last line, one JSON object with the medians and their ratio.

    python benchmarks/explore.py [--models 5] [--layers 3] [--heads 4] [--pos 41] [--repeats 3]
"""
import argparse
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch

from ftmech.explore import DPI, attention_explorer, explorer, figure_png
from ftmech.model import Transformer, mingpt_config
from timing import median_seconds


def per_figure_explorer(models, tokens, labels):
    "The baseline: a new figure (image, ticks, colour bar, title) for every model x block x head panel."
    panels = {}
    for name, model in models.items():
        hooks = [f"blocks.{l}.attn.hook_pattern" for l in range(model.cfg.n_layers)]
        with torch.no_grad():
            _, cache = model.run_with_cache(tokens[None], names_filter=hooks)
        for l, h in enumerate(hooks):
            pattern = cache[h][0].numpy()  # [head, query, key]
            for head in range(pattern.shape[0]):
                fig, ax = plt.subplots(figsize=(3.4, 3.2))
                im = ax.imshow(pattern[head], vmin=0, vmax=0.5, cmap="viridis")
                ax.set_xticks(range(len(labels)), labels, fontsize=6, rotation=90)
                ax.set_yticks(range(len(labels)), labels, fontsize=6)
                ax.set(xlabel="key", ylabel="query", title=f"{name}: block {l}, head {head}")
                fig.colorbar(im, ax=ax, shrink=0.7)
                panels[(name, l, head)] = figure_png(fig, DPI)
    first = next(iter(models.values()))
    return explorer(panels, [("model", list(models)), ("block", list(range(first.cfg.n_layers))),
                             ("head", list(range(first.cfg.n_heads)))])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=int, default=5)
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--pos", type=int, default=41, help="input length (the cpu PCFG prompt: 41 tokens)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    cfg = mingpt_config(vocab_size=60, n_ctx=64, d_model=64, n_layers=args.layers, n_heads=args.heads)
    models = {f"model {i}": Transformer(cfg, generator=torch.Generator().manual_seed(i)).eval() for i in range(args.models)}
    tokens = torch.randint(0, 60, (args.pos,), generator=torch.Generator().manual_seed(0))
    labels = [str(int(t)) for t in tokens]
    panels = args.models * args.layers * args.heads
    ours = median_seconds(lambda: attention_explorer(models, tokens, labels=labels), args.repeats)
    base = median_seconds(lambda: per_figure_explorer(models, tokens, labels), args.repeats)
    print(f"{panels} panels: attention_explorer {ours:.2f} s, a figure per panel {base:.2f} s")
    print(json.dumps({"benchmark": "explore", "panels": panels, "pos": args.pos, "repeats": args.repeats,
                      "attention_explorer_s": round(ours, 3), "figure_per_panel_s": round(base, 3),
                      "speedup": round(base / ours, 2)}))


if __name__ == "__main__":
    main()
