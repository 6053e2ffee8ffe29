#!/usr/bin/python3
"""Records the torch fixture of `twb import` (test/fixtures/traces/).

Profiles a small transformer encoder (nn.TransformerEncoderLayer x2) training on the CPU for a few
steps under torch.profiler.schedule (so the trace has ProfilerStep#N), with record_shapes,
with_stack and profile_memory on; writes the chrome trace gzip'd and PyTorch's own key_averages()
rows {name, count, self_cpu_time_total, cpu_time_total} (microseconds) beside it, so the importer
can be checked against torch's figures for the very same events.

Usage: /usr/bin/python3 scripts/make-torch-trace.py [OUT_DIR]   (default test/fixtures/traces)
Needs torch (Debian python3-torch 1.13 works); CI does not run it, the outputs are committed.
"""
import gzip
import json
import os
import shutil
import sys
import tempfile

import torch
from torch import nn
from torch.profiler import ProfilerActivity, profile, schedule

NAME = 'torch-encoder-cpu'


def main() -> None:
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'traces')
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(0)
    torch.set_num_threads(1)  # one intra-op thread: the host-op tree is one thread per caller
    layer = nn.TransformerEncoderLayer(d_model=64, nhead=4, dim_feedforward=128, dropout=0.1, batch_first=True)
    model = nn.TransformerEncoder(layer, num_layers=2)
    head = nn.Linear(64, 8)
    opt = torch.optim.SGD(list(model.parameters()) + list(head.parameters()), lr=0.01)
    x = torch.randn(4, 16, 64)
    y = torch.randint(0, 8, (4,))

    tmp = tempfile.mkdtemp(prefix='twb-torch-trace-')
    trace_path = os.path.join(tmp, f'{NAME}.pt.trace.json')

    def on_ready(prof):
        prof.export_chrome_trace(trace_path)

    sched = schedule(wait=1, warmup=1, active=3, repeat=1)
    with profile(activities=[ProfilerActivity.CPU], schedule=sched, on_trace_ready=on_ready,
                 record_shapes=True, with_stack=True, profile_memory=True) as prof:
        for _ in range(5):
            opt.zero_grad()
            logits = head(model(x).mean(dim=1))
            loss = nn.functional.cross_entropy(logits, y)
            loss.backward()
            opt.step()
            prof.step()

    rows = [
        {'name': e.key, 'count': e.count, 'self_cpu_time_total': e.self_cpu_time_total, 'cpu_time_total': e.cpu_time_total}
        for e in prof.key_averages()
    ]
    rows.sort(key=lambda r: (-r['self_cpu_time_total'], r['name']))
    with open(trace_path, 'rb') as src, gzip.open(os.path.join(out_dir, f'{NAME}.pt.trace.json.gz'), 'wb', compresslevel=9) as dst:
        shutil.copyfileobj(src, dst)
    with open(os.path.join(out_dir, f'{NAME}.key_averages.json'), 'w') as f:
        json.dump({'torch': torch.__version__, 'rows': rows}, f, indent=1)
        f.write('\n')
    shutil.rmtree(tmp)
    print(f'wrote {NAME}.pt.trace.json.gz and {NAME}.key_averages.json ({len(rows)} ops) to {out_dir}')


if __name__ == '__main__':
    main()
