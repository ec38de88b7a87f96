"""Seed 001's PyTorch experiment (E001-2) as its reader would write it, with plain PyTorch.

This is the baseline of ``benchmarks/run.py`` (b): an ``nn.Module`` with three
``Linear`` layers (ReLU, ReLU, sigmoid output), ``Adam(lr=0.1)`` with
``ExponentialLR(gamma=0.96)`` stepped once per epoch, and a full-batch loop
of 100 epochs with ``BCELoss`` on the sigmoid outputs that records each
epoch's loss (``loss.item()``) and logs epoch, loss and LR every 10 epochs —
written from the seed's meaning, with today's API. The log lines are kept in
a list rather than printed, so that the benchmark's output stays its table.

No lrlab code runs here: these are the numbers lrlab is measured against.
"""

from __future__ import annotations

from lrlab.determinism import configure_torch

torch = configure_torch()  # the same thread setting and deterministic kernels as lrlab.torch

from torch import nn  # noqa: E402

__all__ = ["SeedNet", "seed_experiment"]


class SeedNet(nn.Module):
    """The seed-001 network: 20 → 64 → 32 → 1, ReLU hidden layers, sigmoid output (torch's default init)."""

    def __init__(self, n_features: int = 20):
        super().__init__()
        self.hidden1 = nn.Linear(n_features, 64)
        self.hidden2 = nn.Linear(64, 32)
        self.output = nn.Linear(32, 1)

    def forward(self, x):
        x = torch.relu(self.hidden1(x))
        x = torch.relu(self.hidden2(x))
        return torch.sigmoid(self.output(x))


def seed_experiment(x, y, epochs: int = 100):
    """Return ``(per-epoch training losses, log lines)`` of E001-2's full-batch loop on numpy ``x``, ``y``."""
    inputs = torch.tensor(x, dtype=torch.float32)
    targets = torch.tensor(y, dtype=torch.float32).view(-1, 1)
    model = SeedNet(inputs.shape[1])
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.96)
    criterion = nn.BCELoss()
    losses, log = [], []
    for epoch in range(epochs):
        model.train()
        optimizer.zero_grad()
        loss = criterion(model(inputs), targets)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
        if epoch % 10 == 0:
            log.append(f"epoch {epoch}: loss {loss.item():.4f}, lr {scheduler.get_last_lr()[0]:.5f}")
    return losses, log
