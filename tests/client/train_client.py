#!/usr/bin/env python3
"""A small data-parallel training job in plain Python (no NumPy, no torch)
that uses the dojo_job client as a PyTorch script would: linear regression,
gradients averaged over ranks by an all-reduce through rank 0 over TCP (as
gloo's would be), rank 0's checkpoints in dojo_job.checkpoint_dir().

Test behaviour comes from the environment:
  TRAIN_STEPS=N            steps in all (default 40)
  TRAIN_STEP_SLEEP_S=S     every rank sleeps S a step (default 0.02)
  TRAIN_SLOW_RANK=R        rank R sleeps 50 ms more a step (a straggler)
  TRAIN_FREEZE=R:S         rank R stops itself (SIGSTOP) inside the all-reduce of step S
                           of attempt 0, after a heartbeat has said where it is
  TRAIN_FAIL=R:S           rank R exits 7 at step S of attempt 0
  TRAIN_MISMATCH=R:S       rank R enters a barrier instead of the all-reduce of step S
                           of attempt 0, and waits there
"""

import json
import os
import random
import signal
import socket
import struct
import sys
import time

import dojo_job

DIM = 8
TRUE_W = [0.5 * (i + 1) for i in range(DIM)]


def env_pair(name):
    value = os.environ.get(name)
    if not value:
        return None
    rank, step = value.split(":")
    return int(rank), int(step)


def recv_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError("a peer closed the all-reduce connection")
        data += chunk
    return data


class AllReduce:
    """Averages a vector over all ranks through rank 0."""

    def __init__(self, rank, world):
        self.rank, self.world, self.peers = rank, world, []
        addr = (os.environ.get("MASTER_ADDR", "127.0.0.1"), int(os.environ.get("MASTER_PORT", "29500")))
        if world == 1:
            return
        if rank == 0:
            server = socket.socket()
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            server.bind(addr)
            server.listen(world)
            for _ in range(world - 1):
                conn, _ = server.accept()
                self.peers.append(conn)
            server.close()
        else:
            deadline = time.time() + 60
            while True:
                try:
                    self.peers.append(socket.create_connection(addr))
                    break
                except OSError:
                    if time.time() > deadline:
                        raise
                    time.sleep(0.05)

    def __call__(self, values):
        n = len(values)
        fmt = "%dd" % n
        if self.world == 1:
            return values
        if self.rank == 0:
            total = list(values)
            for conn in self.peers:
                for i, v in enumerate(struct.unpack(fmt, recv_exact(conn, 8 * n))):
                    total[i] += v
            mean = [v / self.world for v in total]
            for conn in self.peers:
                conn.sendall(struct.pack(fmt, *mean))
            return mean
        self.peers[0].sendall(struct.pack(fmt, *values))
        return list(struct.unpack(fmt, recv_exact(self.peers[0], 8 * n)))


def save(path, step, w):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"step": step, "w": w}, f)
    os.replace(tmp, path)


def main():
    rank, world = dojo_job.rank(), dojo_job.world_size()
    steps = int(os.environ.get("TRAIN_STEPS", "40"))
    sleep_s = float(os.environ.get("TRAIN_STEP_SLEEP_S", "0.02"))
    slow = os.environ.get("TRAIN_SLOW_RANK")
    freeze, fail = env_pair("TRAIN_FREEZE"), env_pair("TRAIN_FAIL")
    mismatch = env_pair("TRAIN_MISMATCH")
    batch = dojo_job.batch_share() or 16
    ckpt = os.path.join(dojo_job.checkpoint_dir(), "ckpt.json")
    w, start = [0.0] * DIM, 0
    if os.path.exists(ckpt):
        with open(ckpt) as f:
            saved = json.load(f)
        w, start = saved["w"], saved["step"] + 1
        if rank == 0:
            print("resumed from step %d (attempt %d)" % (saved["step"], dojo_job.attempt()), flush=True)
    all_reduce = AllReduce(rank, world)
    loss = 0.0
    for step in range(start, steps):
        rng = random.Random(step * 1000 + rank)
        grad, loss = [0.0] * DIM, 0.0
        for _ in range(batch):
            x = [rng.uniform(-1, 1) for _ in range(DIM)]
            err = sum(a * b for a, b in zip(w, x)) - sum(a * b for a, b in zip(TRUE_W, x))
            loss += err * err / batch
            for i in range(DIM):
                grad[i] += 2 * err * x[i] / batch
        time.sleep(sleep_s + (0.05 if slow is not None and int(slow) == rank else 0))
        if fail and fail == (rank, step) and dojo_job.attempt() == 0:
            print("rank %d: failing at step %d" % (rank, step), flush=True)
            sys.exit(7)
        if mismatch and mismatch == (rank, step) and dojo_job.attempt() == 0:
            print("rank %d: entering a barrier the others never enter, at step %d" % (rank, step), flush=True)
            with dojo_job.collective("barrier"):
                time.sleep(600)
        with dojo_job.collective("all_reduce"):
            if freeze and freeze == (rank, step) and dojo_job.attempt() == 0:
                print("rank %d: freezing in the all-reduce of step %d" % (rank, step), flush=True)
                time.sleep(1.5)  # one heartbeat (1 s apart) tells the launcher where it is
                os.kill(os.getpid(), signal.SIGSTOP)
            # The stop flag travels with the gradient, so every rank stops at the same step.
            try:
                reduced = all_reduce(grad + [loss, 1.0 if dojo_job.stop_requested() else 0.0])
            except (ConnectionError, OSError):
                # A peer that failed closes its connection: its own exit is
                # the one mpirun should report, so give it the time to.
                time.sleep(5)
                raise
        w = [a - 0.1 * g for a, g in zip(w, reduced[:DIM])]
        loss = reduced[DIM]
        dojo_job.step(step, samples=batch, loss=loss)
        last = step == steps - 1
        if rank == 0 and (step % 10 == 9 or last or reduced[DIM + 1] > 0):
            with dojo_job.checkpoint():
                save(ckpt, step, w)
        if reduced[DIM + 1] > 0:
            if rank == 0:
                print("stopping at step %d on signal %d" % (step, dojo_job.stop_signal()), flush=True)
            dojo_job.exit_stopped()
    if rank == 0:
        with open(os.path.join(dojo_job.run_dir(), "script-final.json"), "w") as f:
            json.dump({"step": steps - 1, "loss": loss}, f)
        print("done: loss %.6g" % loss, flush=True)


if __name__ == "__main__":
    main()
