#!/usr/bin/env python3
"""A PyTorch DDP training script (gloo on CPU, NCCL on GPUs) with the three
additions dojo_job asks for, as docs/TRAINING.md shows them: step figures,
the all-reduce marked through DDP's communication hook, and a clean stop.
scripts/accept-torch runs it under dojorun; it needs torch and nothing else
(synthetic data: a two-layer MLP learns a fixed random linear map).

Test behaviour comes from the environment:
  TRAIN_STEPS=N         steps in all (default 200)
  TRAIN_SLOW_RANK=R     rank R sleeps 50 ms more a step (a straggler)
  TRAIN_HANG=R:S        rank R stops at step S of attempt 0 outside any
                        collective; the other ranks block in the all-reduce
"""

import os
import time

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP

import dojo_job


def main():
    steps = int(os.environ.get("TRAIN_STEPS", "200"))
    slow = os.environ.get("TRAIN_SLOW_RANK")
    hang = os.environ.get("TRAIN_HANG")
    hang = tuple(int(x) for x in hang.split(":")) if hang else None
    cuda = torch.cuda.is_available()
    dist.init_process_group("nccl" if cuda else "gloo")  # RANK, WORLD_SIZE, MASTER_* from dojorun
    rank = dist.get_rank()
    device = torch.device("cuda", dojo_job.local_rank()) if cuda else torch.device("cpu")
    torch.manual_seed(0)
    target = torch.randn(64, 16)
    model = DDP(nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 16)).to(device))
    model.register_comm_hook(None, dojo_job.ddp_comm_hook)  # all-reduces named in hang reports
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    batch = dojo_job.batch_share() or 64

    ckpt = os.path.join(dojo_job.checkpoint_dir(), "ckpt.pt")
    start = 0
    if os.path.exists(ckpt):
        state = torch.load(ckpt, map_location=device)
        model.module.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start = state["step"] + 1
        if rank == 0:
            print("resumed from step %d (attempt %d)" % (state["step"], dojo_job.attempt()), flush=True)

    def save(step):
        if rank == 0:
            os.makedirs(dojo_job.checkpoint_dir(), exist_ok=True)
            torch.save({"model": model.module.state_dict(), "optimizer": optimizer.state_dict(),
                        "step": step}, ckpt + ".tmp")
            os.replace(ckpt + ".tmp", ckpt)

    generator = torch.Generator().manual_seed(1000 + rank)
    for step in range(start, steps):
        if hang and hang == (rank, step) and dojo_job.attempt() == 0:
            print("rank %d: stuck at step %d (outside any collective)" % (rank, step), flush=True)
            time.sleep(1e6)
        x = torch.randn(batch, 64, generator=generator).to(device)
        if slow is not None and int(slow) == rank:
            time.sleep(0.05)
        loss = nn.functional.mse_loss(model(x), x @ target.to(device))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        dojo_job.step(step, samples=batch, loss=loss.item())  # 1: figures for the launcher
        if step % 20 == 19:
            save(step)
        if dojo_job.stop_agreed():                            # 2: a clean stop
            save(step)
            if rank == 0:
                print("stopping at step %d on signal %d" % (step, dojo_job.stop_signal()), flush=True)
            dojo_job.exit_stopped()                           # 3: exit 3
    save(steps - 1)
    if rank == 0:
        print("done: loss %.4g" % loss.item(), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
