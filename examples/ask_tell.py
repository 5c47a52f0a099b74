"""The ask/tell loop: you evaluate f yourself (in a simulator, on a cluster, ...)."""

import numpy as np

import relax

opt = relax.Optimizer(relax.DiagonalGaussian(np.full(8, 2.0), 1.0), seed=0, target=1e-10)
while not opt.stop():
    X = opt.ask()                       # popsize x n points from p(x; xi)
    fX = np.sum(X**2, axis=1)           # evaluate them however you like
    opt.tell(X, fX)                     # natural-gradient step on the model
res = opt.result()
print(f"{res.message}: f = {res.fun:.3g} after {res.nfev} evaluations")
print("final mean:", np.round(res.model.mean(), 6))

opt.save("ask_tell_checkpoint.pkl")     # everything, including the random generator state
again = relax.Optimizer.load("ask_tell_checkpoint.pkl")
assert np.array_equal(again.ask(), opt.ask())   # resumes bit for bit
