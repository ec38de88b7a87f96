"""The learning rate each framework's optimizer used, drawn over the schedule's formula (chapter 2's figures).

:func:`lrlab.schedule_twins.lrs_used` drives a real ``SGD`` of each framework
under an lrlab schedule's native twin and reads the rate every update used.
:class:`UsedRates` draws those rates over the numpy reference ``s(k)``, one panel
per schedule, and keeps the largest gap it has seen, relative to each panel's
peak rate:

    ``gap = max_k |lr_used(k) − s(k)| / max_k |s(k)|``

:func:`native_modules` names the library each twin's class comes from (C001-1a:
is each family native in both frameworks?).

>>> gap_line({"tf": 5.96e-8, "torch": 0.0})
'largest |LR used − reference| / peak LR: tf 6.0e-08, torch < 1e-12'
"""

from __future__ import annotations

__all__ = ["STYLE", "UsedRates", "gap_line", "native_modules"]

#: how each framework's used rates are drawn over the reference line: Keras circles, PyTorch crosses
STYLE = {"tf": dict(marker="o", ls="", ms=4, mfc="none"), "torch": dict(marker="x", ls="", ms=3)}


def gap_line(gaps: dict) -> str:
    """Return the printed line of the largest gaps, ``"< 1e-12"`` for a gap below ``1e-12``."""
    return "largest |LR used − reference| / peak LR: " + ", ".join(
        f"{name} {gap:.1e}" if gap >= 1e-12 else f"{name} < 1e-12" for name, gap in gaps.items())


class UsedRates:
    """Draws schedules with the rates the frameworks used, and keeps the largest gap over every figure.

    ``largest`` maps each framework to the largest relative gap of every
    :meth:`draw` so far, ``last`` to that of the latest figure.
    """

    def __init__(self, frameworks):
        self.frameworks = list(frameworks)
        self.largest = {name: 0.0 for name in self.frameworks}
        self.last: dict = {}

    def draw(self, named: dict, ks, xlabel: str = "update k", log: bool = False) -> None:
        """Draw one panel per ``{label: schedule}`` over the updates ``ks``; show it and print the largest gaps.

        Each panel: the numpy reference as a black line, the rate each framework
        used as markers (:data:`STYLE`). The figure's ``{framework: largest gap}``
        becomes :attr:`last` and is folded into :attr:`largest`.
        """
        import matplotlib.pyplot as plt

        from lrlab.schedule_twins import lrs_used

        fig, axes = plt.subplots(1, len(named), figsize=(3.2 * len(named), 2.9), squeeze=False)
        gaps = {name: 0.0 for name in self.frameworks}
        for ax, (label, schedule) in zip(axes[0], named.items()):
            table = lrs_used(schedule, ks, self.frameworks)
            peak = table.reference.abs().max()
            ax.plot(table.k, table.reference, "k-", lw=1, label="numpy reference")
            for name in self.frameworks:
                ax.plot(table.k, table[name], label=f"{name} used", **STYLE[name])
                gaps[name] = max(gaps[name], float((table[name] - table.reference).abs().max() / peak))
            ax.set(title=label, xlabel=xlabel, yscale="log" if log else "linear")
            ax.title.set_fontsize(9)
        axes[0][0].set_ylabel("learning rate")
        axes[0][0].legend(fontsize=7)
        fig.tight_layout()
        plt.show()
        for name in self.frameworks:
            self.largest[name] = max(self.largest[name], gaps[name])
        self.last = gaps
        print(gap_line(gaps))


def native_modules(named: dict, frameworks) -> dict:
    """Return ``{framework: [module of each schedule's native twin]}`` (``s.to_keras()``, ``s.to_torch(SGD)``)."""
    modules = {}
    for name in frameworks:
        if name == "tf":
            modules[name] = [type(s.to_keras()).__module__ for s in named.values()]
        else:
            from lrlab.determinism import configure_torch

            torch = configure_torch()
            modules[name] = [type(s.to_torch(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1))).__module__
                             for s in named.values()]
    return modules
