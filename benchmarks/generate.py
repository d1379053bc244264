"""Story generation with the KV cache (`ftmech.stories.generate`) against re-running the whole sequence per token.

Both sample the same model, prompt and number of tokens (greedy, no stop token, so every row runs to the end).
Prints a table, then, as its last line, one JSON object with the medians and their ratio.

    python benchmarks/generate.py [--profile cpu] [--n 4] [--tokens 200] [--prompt 48] [--repeats 5]
"""
import argparse
import json

import torch

from ftmech.model import Transformer
from ftmech.profiles import profile_params
from ftmech.stories import generate, story_model_config
from timing import median_seconds


@torch.no_grad()
def generate_without_cache(model, prompt, n, max_new_tokens):
    "Greedy decoding that re-runs the last n_ctx tokens for every new token (the baseline)."
    x = torch.tensor(list(prompt)).repeat(n, 1)  # [n, prompt]
    for _ in range(max_new_tokens):
        nxt = model(x[:, -model.cfg.n_ctx:])[:, -1].argmax(-1, keepdim=True)  # [n, 1]
        x = torch.cat([x, nxt], dim=1)
    return x[:, len(prompt):].tolist()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="cpu", help="the `stories` profile whose model is timed")
    ap.add_argument("--n", type=int, default=4, help="continuations per prompt")
    ap.add_argument("--tokens", type=int, default=200, help="new tokens per continuation")
    ap.add_argument("--prompt", type=int, default=48, help="prompt length in tokens")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    p = profile_params("stories", args.profile)
    model = Transformer(story_model_config(p), generator=torch.Generator().manual_seed(0)).eval()
    prompt = torch.randint(1, p["vocab_size"], (args.prompt,), generator=torch.Generator().manual_seed(1)).tolist()
    cached_out = generate(model, prompt, args.n, args.tokens, torch.Generator(), temperature=0, stop_id=None)
    same = cached_out == generate_without_cache(model, prompt, args.n, args.tokens)
    cached = median_seconds(lambda: generate(model, prompt, args.n, args.tokens, torch.Generator(), temperature=0,
                                             stop_id=None), args.repeats)
    plain = median_seconds(lambda: generate_without_cache(model, prompt, args.n, args.tokens), args.repeats)
    tokens = args.n * args.tokens
    print(f"model: {args.profile} profile, {sum(q.numel() for q in model.parameters()):,} parameters, "
          f"context {p['seq_len']}; {args.n} x {args.tokens} tokens after a {args.prompt}-token prompt")
    print(f"KV cache     : {tokens / cached:8,.0f} tokens/s  (median of {args.repeats})")
    print(f"re-run window: {tokens / plain:8,.0f} tokens/s")
    print(f"ratio        : {plain / cached:8.1f}x   same tokens: {same}")
    print(json.dumps({"benchmark": "story_generation", "profile": args.profile, "n": args.n, "tokens": args.tokens,
                      "prompt": args.prompt, "repeats": args.repeats, "threads": torch.get_num_threads(),
                      "cached_tokens_per_s": round(tokens / cached), "plain_tokens_per_s": round(tokens / plain),
                      "ratio": round(plain / cached, 2), "same_tokens": same}))


if __name__ == "__main__":
    main()
