"""Training-step time of the built-in transformer in PyTorch on the CPU, for `npm run bench`.

The same architecture as engine/src/model/transformer.ts and engine/src/train/tf-model.ts
(pre-LayerNorm blocks, erf GELU, learned positions, LM head or pooled classifier), the same
AdamW update and the same batch and sequence length. Prints one JSON line:
{"torch": version, "threads": n, "stepMs": [...], "params": n}.
Usage: python3 bench/torch_train.py SPEC_JSON BATCH SEQ STEPS THREADS
"""
import json
import math
import sys
import time

import torch
import torch.nn.functional as F


class Block(torch.nn.Module):
    def __init__(self, hidden, heads, ffn):
        super().__init__()
        self.heads = heads
        self.ln1 = torch.nn.LayerNorm(hidden, eps=1e-5)
        self.q = torch.nn.Linear(hidden, hidden)
        self.k = torch.nn.Linear(hidden, hidden)
        self.v = torch.nn.Linear(hidden, hidden)
        self.out = torch.nn.Linear(hidden, hidden)
        self.ln2 = torch.nn.LayerNorm(hidden, eps=1e-5)
        self.up = torch.nn.Linear(hidden, ffn)
        self.down = torch.nn.Linear(ffn, hidden)

    def forward(self, x, mask):
        b, s, h = x.shape
        d = h // self.heads
        y = self.ln1(x)
        split = lambda t: t.view(b, s, self.heads, d).transpose(1, 2)
        q, k, v = split(self.q(y)), split(self.k(y)), split(self.v(y))
        # Explicit softmax attention, as the tfjs and ONNX graphs compute it (no fused kernel).
        scores = q @ k.transpose(-1, -2) / math.sqrt(d) + mask
        ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, s, h)
        x = x + self.out(ctx)
        return x + self.down(F.gelu(self.up(self.ln2(x))))


class Model(torch.nn.Module):
    def __init__(self, spec):
        super().__init__()
        h = spec["hidden"]
        self.decoder = spec["kind"] == "decoder"
        self.tok = torch.nn.Embedding(spec["vocab"], h)
        self.pos = torch.nn.Parameter(torch.randn(spec["maxSeq"], h) * 0.02)
        self.blocks = torch.nn.ModuleList(Block(h, spec["heads"], spec["ffn"]) for _ in range(spec["layers"]))
        self.ln = torch.nn.LayerNorm(h, eps=1e-5)
        if self.decoder:
            self.head = torch.nn.Linear(h, spec["vocab"], bias=False)
        else:
            self.pooler = torch.nn.Linear(h, h)
            self.classifier = torch.nn.Linear(h, spec.get("numClasses", 2))

    def forward(self, ids):
        s = ids.shape[1]
        x = self.tok(ids) + self.pos[:s]
        mask = torch.triu(torch.full((s, s), -1e9), 1) if self.decoder else torch.zeros(s, s)
        for blk in self.blocks:
            x = blk(x, mask)
        x = self.ln(x)
        if self.decoder:
            return self.head(x)
        return self.classifier(torch.tanh(self.pooler(x[:, 0])))


def main():
    spec = json.loads(sys.argv[1])
    batch, seq, steps, threads = (int(a) for a in sys.argv[2:6])
    torch.manual_seed(0)
    torch.set_num_threads(threads)
    model = Model(spec)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    ids = torch.randint(0, spec["vocab"], (batch, seq))
    if spec["kind"] == "decoder":
        targets = torch.randint(0, spec["vocab"], (batch, seq))
        loss_fn = lambda logits: F.cross_entropy(logits.reshape(-1, spec["vocab"]), targets.reshape(-1))
    else:
        targets = torch.randint(0, 2, (batch,))
        loss_fn = lambda logits: F.cross_entropy(logits, targets)
    times = []
    for i in range(steps + 2):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(ids))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if i >= 2:  # the first steps allocate and warm caches
            times.append((time.perf_counter() - t0) * 1000)
    params = sum(p.numel() for p in model.parameters())
    print(json.dumps({"torch": torch.__version__, "threads": threads, "stepMs": times, "params": params}))


if __name__ == "__main__":
    main()
