"""Train the G2G seed's dense layout (784-2048x3-10, learnable beta and threshold, atan, beta 0.9,
count loss, Adam 1e-3, batch 256, T 50, current coding) on Fashion-MNIST with snn's engine, to
get trained weights and firing rates for benchmarks/spike_products.py.

Usage: python benchmarks/train_dense3.py STEPS OUT  (writes OUT.pt every 25 steps, OUT.log per step)
(Until `snn train` has --hidden-layers, this is the short way to that network.)"""
import sys, time, json, torch, torch.nn.functional as F
from snncli.engine.device import seed_everything, keep_freed_memory
from snncli.models.mlp import SpikingMLP
from snncli.neurons import LIFParams
from snncli.data import load_dataset, encode
torch.set_num_threads(2)
keep_freed_memory(); seed_everything(0)
steps = int(sys.argv[1]); out = sys.argv[2]
d = load_dataset("fashionmnist", download=False)
x_all = d.train.x.float() / 255.0; y_all = d.train.y
model = SpikingMLP([784, 2048, 2048, 2048, 10], lif=LIFParams(0.9, 1.0, "atan"), T=50, learn_beta=True, learn_threshold=True)
model.set_precision("bf16")
opt = torch.optim.Adam(model.parameters(), 1e-3)
gen = torch.Generator().manual_seed(0)
perm = torch.randperm(len(y_all), generator=gen)
log = open(out + ".log", "w")
t0 = time.time()
for step in range(steps):
    idx = perm[(step * 256) % len(perm):][:256]
    x, y = x_all[idx], y_all[idx]
    o = model(encode(x, 50, "current"))
    loss = F.cross_entropy(o.spikes.sum(0), y)
    opt.zero_grad(); loss.backward(); opt.step()
    acc = (o.spikes.sum(0).argmax(1) == y).float().mean().item()
    rec = dict(step=step, loss=loss.item(), acc=acc, rates=[round(r.item(), 5) for r in o.rates], events=list(model.last_event_layers), t=round(time.time() - t0, 1), load=open("/proc/loadavg").read().split()[0])
    print(json.dumps(rec), file=log, flush=True)
    if (step + 1) % 25 == 0 or step + 1 == steps:
        torch.save(model.state_dict(), out + ".pt")
