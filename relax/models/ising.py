"""The Ising model (binary Markov random field) on {−1,+1}^n.

p(x; θ) = exp(θ·T(x) − ψ(θ)) with T(x) = (x_1, …, x_n, ∏_{i∈S} x_i for each interaction S
in the given order) and θ = (h, J).  Interactions are pairs or of higher order.

For n ≤ 20 every expectation is exact, by enumeration of the 2^n points
(:mod:`relax.enumeration`): η = E[T], ψ, I_θ = Cov(T, T), sampling by inverse CDF.
For n > 20 sampling is by colour-class Gibbs sweeps (:mod:`relax.gibbs`), and the
quantities that need a sum over 2^n states raise ``ValueError``; the optimizer then uses
the empirical Fisher Cov̂(T, T) of its sample.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from relax import backend, gibbs
from relax.backend import CPU, Backend, is_device_array, to_numpy
from relax.enumeration import MAX_ENUMERATION_N, all_points, log_probabilities
from relax.graphs import Graph, complete, from_interactions
from relax.models.base import ExponentialFamily, as_rng, check_size, frozen
from relax.threads import single_thread_blas

SAMPLERS = ("auto", "exact", "gibbs")
CHUNK = 2**22  # entries of T per enumeration chunk
MAX_NEWTON_STEP = 1.0  # largest change of a θ_j in one Newton step of from_eta
MAX_THETA = 100.0  # from_eta gives up (η on or outside the polytope) beyond this


def _count(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def _graph(n: int, interactions) -> Graph:
    if interactions is None:
        return complete(n)
    if isinstance(interactions, Graph):
        if interactions.n != n:
            raise ValueError(f"interactions is a graph on {interactions.n} vertices, not n={n}")
        return interactions
    try:
        return from_interactions(n, interactions)
    except TypeError as err:
        raise ValueError(
            "interactions must be a relax.graphs.Graph, a sequence of index tuples or None;"
            f" got {interactions!r}") from err


def _weighted_gram(q: np.ndarray, A: np.ndarray) -> np.ndarray:
    """Σ_s q_s a_s a_sᵀ over the rows a_s of A (q ≥ 0)."""
    B = A * np.sqrt(q)[:, None]
    return B.T @ B


def _factorize(cov: np.ndarray):
    """A solver g ↦ cov⁻¹ g: Cholesky, or an eigen pseudo-inverse when that fails."""
    try:
        factor = cho_factor(cov)
        return lambda g: cho_solve(factor, g)
    except np.linalg.LinAlgError:
        w, V = np.linalg.eigh(cov)
        keep = w > 1e-14 * max(float(w[-1]), 1e-300)
        return lambda g: V[:, keep] @ ((V[:, keep].T @ g) / w[keep])


class Ising(ExponentialFamily):
    """Binary MRF ``Ising(n, interactions=None, theta=None, *, sampler="auto", ...)``.

    Parameters
    ----------
    n : int
        Number of spins x_i ∈ {−1, +1}.
    interactions : Graph or sequence of tuple of int, optional
        The interactions S (pairs or higher order), as a :class:`relax.graphs.Graph` or
        a list of index tuples (validated and coloured by
        :func:`relax.graphs.from_interactions`).  ``None``: all pairs (complete graph).
    theta : array_like, optional
        θ = (h_1..h_n, J_S for each interaction in order); any finite vector of length
        k = n + #interactions.  ``None``: zeros (the uniform distribution).
    sampler : {"auto", "exact", "gibbs"}
        ``"exact"``: inverse-CDF sampling from the enumerated distribution (n ≤ 20);
        ``"gibbs"``: independent colour-class Gibbs chains, ``burn_in`` sweeps from a
        uniform start (float32 arithmetic, see :mod:`relax.kernels.gibbs`);
        ``"auto"``: exact for n ≤ 20, Gibbs otherwise.
    burn_in : int
        Sweeps run by new chains before their first sample.
    sweeps : int
        Sweeps between two samples of persistent chains (:meth:`sample_chains`).  Sweeps
        cost time, not evaluations of f; 20 keep the chains near equilibrium while the
        optimizer anneals the model (measured on ±J spin glasses, where one sweep per
        iteration froze the chains in local minima).
    cluster_sweeps : int or "auto"
        How many of those sweeps start with a Swendsen–Wang cluster update
        (:mod:`relax.clusters`; pairwise interactions only).  ``"auto"``: 1 on pairwise
        graphs, 0 otherwise.  A cluster update flips whole domains: on a 256-spin ring at
        J = 3 single-site sweeps leave domain walls that only meet by diffusion, and the
        optimizer stalled at −252 of −256 where one cluster update per iteration reaches
        the ground state.
    """

    domain = "binary"

    def __init__(self, n: int, interactions=None, theta=None, *, sampler: str = "auto",
                 burn_in: int = 100, sweeps: int = 20, cluster_sweeps="auto"):
        n = _count(n, "n", 1)
        self._graph = _graph(n, interactions)
        k = n + len(self._graph.interactions)
        theta = np.zeros(k) if theta is None else self._check_theta(theta, k)
        if sampler not in SAMPLERS:
            raise ValueError(f"sampler must be one of {SAMPLERS}; got {sampler!r}")
        if sampler == "exact" and n > MAX_ENUMERATION_N:
            raise ValueError(f"sampler='exact' needs n <= {MAX_ENUMERATION_N}; got n={n}"
                             " (use sampler='gibbs')")
        if sampler == "auto":
            sampler = "exact" if n <= MAX_ENUMERATION_N else "gibbs"
        self._sampler = sampler
        self._burn_in = _count(burn_in, "burn_in", 0)
        self._sweeps = _count(sweeps, "sweeps", 1)
        self._groups = gibbs.order_groups(self._graph.interactions)
        pairwise = all(len(s) == 2 for s in self._graph.interactions)
        if cluster_sweeps == "auto":
            cluster_sweeps = 1 if pairwise else 0
        self._cluster_sweeps = _count(cluster_sweeps, "cluster_sweeps", 0)
        if self._cluster_sweeps and not pairwise:
            raise ValueError("cluster_sweeps needs pairwise interactions (Swendsen-Wang); "
                             "pass cluster_sweeps=0 for higher-order interactions")
        self._theta = frozen(theta)
        self._shared: dict = {}  # structure-level caches, shared with from_theta results
        self._cache: dict = {}  # θ-level caches

    @staticmethod
    def _check_theta(theta, k: int) -> np.ndarray:
        if is_device_array(theta):
            bk = backend.of(theta)
            if theta.shape != (k,) or not bk.all_finite(theta):
                raise ValueError(f"theta must be a finite vector of shape ({k},); got "
                                 f"shape {theta.shape}")
            return bk.astype(theta, bk.float)
        theta = np.asarray(theta, dtype=float)
        if theta.shape != (k,):
            raise ValueError(f"theta must have shape ({k},) (n fields, then one per"
                             f" interaction); got {theta.shape}")
        if not np.all(np.isfinite(theta)):
            raise ValueError("theta must be finite")
        return theta

    def __repr__(self) -> str:
        return (f"Ising(n={self.n}, interactions={len(self._graph.interactions)},"
                f" sampler={self._sampler!r})")

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_shared"], state["_cache"] = {}, {}
        return state

    # ----------------------------------------------------------------- structure
    @property
    def n(self) -> int:
        return self._graph.n

    @property
    def k(self) -> int:
        return self._theta.shape[0]

    def on(self, bk: Backend) -> Ising:
        """This model with θ on ``bk`` (sampled there by Gibbs sweeps, n > 20)."""
        if bk.owns(self._theta):
            return self
        return self.from_theta(bk.asarray(self._theta))

    @property
    def graph(self) -> Graph:
        return self._graph

    @property
    def interactions(self) -> tuple:
        return self._graph.interactions

    @property
    def sampler(self) -> str:
        return self._sampler

    @property
    def sweeps(self) -> int:
        return self._sweeps

    @property
    def burn_in(self) -> int:
        return self._burn_in

    @property
    def cluster_sweeps(self) -> int:
        return self._cluster_sweeps

    @property
    def exact(self) -> bool:
        """True when n ≤ 20: η, ψ, I_θ and the mode are exact, by enumeration."""
        return self.n <= MAX_ENUMERATION_N

    @property
    def h(self) -> np.ndarray:
        """Fields θ_1..θ_n."""
        return self._theta[: self.n]

    @property
    def J(self) -> np.ndarray:
        """Interaction parameters θ_S, one per interaction in order."""
        return self._theta[self.n:]

    def structure(self) -> tuple:
        return (type(self).__name__, self.n, self.k, self._graph.interactions)

    # ---------------------------------------------------------------- parameters
    @property
    def theta(self) -> np.ndarray:
        return self._theta

    @property
    def eta(self) -> np.ndarray:
        """η = E_θ[T] = Σ_x p(x) T(x), by enumeration (n ≤ 20)."""
        return self._moments()[0]

    def from_theta(self, theta) -> Ising:
        theta = self._check_theta(self._check_vector(theta, "theta"), self.k)
        new = object.__new__(Ising)
        new.__dict__.update(self.__dict__)
        new._theta, new._cache = frozen(theta), {}
        return new

    def from_eta(self, eta, *, tol: float = 1e-10, max_iter: int = 200) -> Ising:
        """Moment matching: θ = argmin_θ φ(θ), φ = ψ(θ) − θ·η, by damped Newton (n ≤ 20).

        From the current θ: direction d = −I_θ⁻¹(η(θ) − η) with the exact Fisher, first
        step 1/(1 + λ) with λ² = −(η(θ) − η)·d the Newton decrement (full steps once
        λ < 1/4) and at most 1 in every coordinate, halved until φ decreases (Armijo;
        unchecked once λ < 1e-4, where the decrease is below roundoff), until
        max |η(θ) − η| ≤ ``tol``.  Raises ``ValueError`` when η is not in the interior
        of the marginal polytope (some |θ_j| passes 100, or the iteration stalls).
        """
        self._require_exact("from_eta", "step in the theta chart (param='theta')")
        eta = self._check_vector(eta, "eta")
        if not np.all(np.abs(eta) < 1):
            raise ValueError("eta must lie in the interior of the marginal polytope"
                             " (in particular |eta_j| < 1)")
        model = self
        for _ in range(max_iter):
            grad = model.eta - eta
            if np.max(np.abs(grad)) <= tol:
                return model
            model = model._newton_step(eta, grad)
        raise ValueError(f"from_eta: Newton did not converge in {max_iter} iterations; eta is"
                         " not in the interior of the marginal polytope (or too close to it)")

    def _newton_step(self, eta: np.ndarray, grad: np.ndarray) -> Ising:
        d = -self.natural_from_vanilla(grad)
        decrement = np.sqrt(max(-float(grad @ d), 0.0))
        if decrement < 1e-4:  # quadratic convergence; φ's decrease is below roundoff
            return self.from_theta(self._theta + d)
        objective = self.log_partition() - self._theta @ eta
        t = min(1.0 if decrement < 0.25 else 1.0 / (1.0 + decrement),
                MAX_NEWTON_STEP / np.max(np.abs(d)))
        while t > 1e-12:
            theta = self._theta + t * d
            new = self.from_theta(theta)
            if new.log_partition() - theta @ eta <= objective + 1e-4 * t * (grad @ d):
                if np.max(np.abs(theta)) > MAX_THETA:
                    break
                return new
            t *= 0.5
        raise ValueError("from_eta: Newton diverges; eta is not in the interior of the"
                         " marginal polytope")

    # -------------------------------------------------------------- enumeration
    def _require_exact(self, what: str, instead: str) -> None:
        if not self.exact:
            raise ValueError(f"{what} is intractable for n > {MAX_ENUMERATION_N} (n={self.n}):"
                             f" it needs a sum over 2^n states; {instead}")

    def _points(self) -> np.ndarray:
        """All 2^n points as int8 (enumeration order of :func:`all_points`), shared."""
        if "points" not in self._shared:
            self._shared["points"] = all_points(self.n).astype(np.int8)
        return self._shared["points"]

    def _chunks(self):
        """(slice, T(x) of that slice) over the enumeration, a few MB at a time; T of all
        2^n points is computed once per structure and shared when it fits in 64 MB."""
        X = self._points()
        if X.shape[0] * self.k <= 8_000_000:
            if "T" not in self._shared:
                self._shared["T"] = self.stats(X.astype(float))
            yield slice(0, X.shape[0]), self._shared["T"]
            return
        step = max(1, CHUNK // self.k)
        for a in range(0, X.shape[0], step):
            yield slice(a, a + step), self.stats(X[a:a + step].astype(float))

    def _enumerate(self) -> tuple[np.ndarray, float]:
        """(log p over the enumeration, ψ)."""
        if "logp" not in self._cache:
            self._require_exact("log_partition", "compare models through samples instead")
            logits = np.concatenate([T @ self._theta for _, T in self._chunks()])
            self._cache["logp"] = log_probabilities(logits)
        return self._cache["logp"]

    def _moments(self) -> tuple[np.ndarray, np.ndarray]:
        """η = Σ p T and I_θ = Cov(T, T) = Σ p (T − η)(T − η)ᵀ, two chunked passes.

        States with p < 1e-20 max p are left out (together less than 2^n · 1e-20 of the
        mass, below double precision for n ≤ 20): a concentrated model sums over few
        states.  The products run with BLAS pinned to one thread.
        """
        if "moments" not in self._cache:
            self._require_exact("eta (and the exact Fisher)",
                                "use the sample mean of stats(X) and fisher='empirical'")
            p = np.exp(self._enumerate()[0])
            keep = p > 1e-20 * p.max()
            parts = [(p[s][keep[s]], T[keep[s]]) for s, T in self._chunks()]
            with single_thread_blas(self.k >= 32):
                eta = sum(q @ T for q, T in parts)
                cov = sum(_weighted_gram(q, T - eta) for q, T in parts)
            self._cache["moments"] = (frozen(eta), frozen(0.5 * (cov + cov.T)))
        return self._cache["moments"]

    def log_partition(self) -> float:
        """ψ(θ) = log Σ_{x∈{−1,+1}^n} exp(θ·T(x)) (log-sum-exp over the enumeration)."""
        return self._enumerate()[1]

    def fisher_vector(self, v) -> np.ndarray:
        """I_θ v = Cov_θ(T, T) v with the dense k×k covariance from enumeration."""
        self._require_exact("fisher_vector", "use the empirical Fisher (fisher='empirical')")
        return self._moments()[1] @ self._check_vector(v, "v")

    def natural_from_vanilla(self, g) -> np.ndarray:
        """I_θ⁻¹ g by a Cholesky solve with the exact Cov_θ(T, T) (enumeration).

        When Cov_θ(T, T) is numerically singular (a distribution nearly concentrated on
        a face of the cube) the minimum-norm solution through its eigendecomposition,
        eigenvalues below 1e-14·max discarded, is returned instead.
        """
        self._require_exact("natural_from_vanilla",
                            "use the empirical Fisher (fisher='empirical')")
        g = self._check_vector(g, "g")
        if "solve" not in self._cache:
            self._cache["solve"] = _factorize(self._moments()[1])
        return self._cache["solve"](g)

    def kl(self, other: ExponentialFamily) -> float:
        self._require_exact("kl", "compare models through samples instead")
        return super().kl(other)

    def entropy(self) -> float:
        """H(p) = ψ(θ) − θ·η (nats), by enumeration."""
        self._require_exact("entropy", "use spread() (a mean-field proxy) instead")
        return super().entropy()

    # -------------------------------------------------------------------- family
    def stats(self, X) -> np.ndarray:
        """T(x) = (x, ∏_{i∈S} x_i for each interaction S), vectorized per order |S|."""
        X = self._check_X(X)
        if is_device_array(X):
            return self._stats_xp(X)
        T = np.empty((X.shape[0], self.k))
        T[:, : self.n] = X
        for g in self._groups:
            if g.members.shape[1] == 2:
                T[:, self.n + g.index] = X[:, g.members[:, 0]] * X[:, g.members[:, 1]]
            else:
                T[:, self.n + g.index] = np.prod(X[:, g.members], axis=2)
        return T

    def _stats_xp(self, X):
        """:meth:`stats` in the namespace of X: the products of each order as columns
        (``take``), then put in the order of the interactions."""
        bk = backend.of(X)
        xp = bk.xp
        key = ("stats", bk.name)
        if key not in self._shared:
            order = np.concatenate([g.index for g in self._groups] or [np.zeros(0, int)])
            self._shared[key] = (
                [[bk.asarray(g.members[:, p], dtype=xp.int64) for p in range(g.members.shape[1])]
                 for g in self._groups],
                bk.asarray(np.concatenate([np.arange(self.n), self.n + np.argsort(order)]),
                           dtype=xp.int64))
        members, columns = self._shared[key]
        parts = [X]
        for group in members:
            prod = xp.take(X, group[0], axis=1)
            for idx in group[1:]:
                prod = prod * xp.take(X, idx, axis=1)
            parts.append(prod)
        return xp.take(bk.concat(parts, axis=1), columns, axis=1)

    def sample(self, size: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """``size`` points: inverse CDF on the enumeration (``"exact"``), or the states of
        ``size`` new independent Gibbs chains after ``burn_in`` sweeps (``"gibbs"``)."""
        size, rng = check_size(size), as_rng(rng)
        if self._sampler == "exact":
            cdf = self._cdf()
            idx = np.searchsorted(cdf, rng.random(size) * cdf[-1], side="right")
            return self._points()[np.minimum(idx, cdf.size - 1)].astype(float)
        chains = self._advance(self._new_chains(size, rng), self._burn_in)
        return gibbs.samples(chains)

    def sample_chains(self, size: int, rng: np.random.Generator | int | None = None,
                      chains: gibbs.GibbsChains | None = None
                      ) -> tuple[np.ndarray, gibbs.GibbsChains | None]:
        """``size`` points from persistent Gibbs chains, and the chains to pass next time.

        New chains (``burn_in`` sweeps) when ``chains`` is None or does not hold ``size``
        chains of n spins; otherwise ``sweeps`` sweeps from their current states under
        this model's θ.  With the exact sampler the points are exact draws and
        ``chains`` is returned unchanged.
        """
        size, rng = check_size(size), as_rng(rng)
        if self._sampler == "exact":
            return self.sample(size, rng), chains
        if not isinstance(chains, gibbs.GibbsChains) or chains.spins.shape != (self.n, size):
            chains = self._advance(self._new_chains(size, rng), self._burn_in)
        else:
            chains = self._advance(chains, self._sweeps)
        return gibbs.samples(chains), chains

    def _new_chains(self, size: int, rng: np.random.Generator) -> gibbs.GibbsChains:
        """New chains (drawn from ``rng`` on the host), on the backend of θ."""
        return gibbs.on(gibbs.new_chains(self.n, size, rng), backend.of(self._theta))

    def _advance(self, chains: gibbs.GibbsChains, sweeps: int) -> gibbs.GibbsChains:
        """``sweeps`` sweeps, the first ``cluster_sweeps`` of them preceded by a
        Swendsen–Wang update.

        Chains on the GPU are swept by the CUDA kernel (:mod:`relax.gpu.gibbs`); the
        Swendsen–Wang update runs on the CPU (the chains cross the bus, n·C bytes each
        way); chains of another namespace are swept on the CPU.
        """
        bk = backend.of(chains.spins)
        c = min(self._cluster_sweeps, sweeps)
        if c:
            from relax import clusters

            chains = gibbs.on(clusters.sweep(gibbs.on(chains, CPU), self._couplings(), c), bk)
        if bk.is_cupy:
            from relax.gpu import gibbs as gpu_gibbs

            return gpu_gibbs.sweep(chains, self._device_couplings(), sweeps - c)
        if not bk.is_numpy:
            swept = gibbs.sweep(gibbs.on(chains, CPU), self._couplings(), sweeps - c)
            return gibbs.on(swept, bk)
        return gibbs.sweep(chains, self._couplings(), sweeps - c)

    def _device_couplings(self):
        """The couplings in the GPU kernel's layout (:class:`relax.gpu.gibbs.Couplings`)."""
        if "device_couplings" not in self._cache:
            from relax.gpu import gibbs as gpu_gibbs

            self._cache["device_couplings"] = gpu_gibbs.couplings(self._couplings())
        return self._cache["device_couplings"]

    def _cdf(self) -> np.ndarray:
        if "cdf" not in self._cache:
            logp, _ = self._enumerate()
            self._cache["cdf"] = np.cumsum(np.exp(logp))
        return self._cache["cdf"]

    def _couplings(self) -> gibbs.Couplings:
        if "couplings" not in self._cache:
            if "plan" not in self._shared:
                self._shared["plan"] = gibbs.sweep_plan(self._graph)
            self._cache["couplings"] = gibbs.couplings(self._shared["plan"], to_numpy(self.h),
                                                       to_numpy(self.J))
        return self._cache["couplings"]

    def _reference(self) -> gibbs.ReferencePlan:
        if "reference" not in self._cache:
            self._cache["reference"] = gibbs.reference_plan(self._graph, self.h, self.J,
                                                            dtype=np.float64)
        return self._cache["reference"]

    # --------------------------------------------------------------- summaries
    def mean(self) -> np.ndarray:
        """E[x] = η_{1..n} (exact, n ≤ 20); for n > 20 the naive mean-field
        magnetisations m = tanh(field(m)), iterated by colour class (an approximation)."""
        if self.exact:
            return self.eta[: self.n].copy()
        return self._mean_field()

    def _mean_field(self, max_sweeps: int = 1000, tol: float = 1e-10) -> np.ndarray:
        plan = self._reference()
        m = np.tanh(self.h)[:, None]
        for _ in range(max_sweeps):
            before = m.copy()
            for k, sites in enumerate(plan.sites):
                m[sites] = np.tanh(gibbs.class_field(m, plan, k))
            if np.max(np.abs(m - before)) <= tol:
                break
        return m[:, 0]

    def mode(self) -> np.ndarray:
        """argmax_x θ·T(x) by enumeration (n ≤ 20).  For n > 20 an approximation:
        zero-temperature colour-class sweeps x_i ← sign(field_i) (iterated conditional
        modes) from x = sign(h), until no spin changes (a local maximum)."""
        if self.exact:
            return self._points()[int(np.argmax(self._enumerate()[0]))].astype(float)
        plan = self._reference()
        x = np.where(self.h >= 0, 1.0, -1.0)[:, None]
        for _ in range(10_000):
            before = x.copy()
            for k, sites in enumerate(plan.sites):
                x[sites] = np.where(gibbs.class_field(x, plan, k) >= 0, 1.0, -1.0)
            if np.array_equal(x, before):
                break
        return x[:, 0]

    def spread(self) -> float:
        """Entropy H(p) in nats (n ≤ 20); for n > 20 the entropy Σ_i H_b((1 + m_i)/2) of
        the mean-field product distribution (an approximation, see :meth:`mean`)."""
        if self.exact:
            return self.entropy()
        q = np.clip((1.0 + self._mean_field()) / 2.0, 1e-300, 1.0)
        r = np.clip(1.0 - q, 1e-300, 1.0)
        return float(-np.sum(q * np.log(q) + r * np.log(r)))

