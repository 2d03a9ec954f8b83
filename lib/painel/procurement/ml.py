"""Machine learning for the procurement suite, on one machine and with no downloaded weights
(docs/procurement.md): the class of an item from its free-text description, and price
anomalies.

**Item classes.** :func:`train` fits TF-IDF features (word 1-2-grams and ``char_wb``
3-5-grams of :func:`normalise`-d text) and a linear model, one weight vector per class.
The model is ``LinearSVC`` (one-vs-rest squared hinge loss, liblinear's own multi-class loop;
features converted once): the standard strong baseline for short-text classification. A multinomial
``LogisticRegression`` would give probabilities directly but its solvers multiply the whole
sparse matrix by all class weights at each of ~100 iterations: with ~400 classes and ~10^5
features it trains many times slower. (``SGDClassifier`` was faster but less accurate on
synthetic data; ``ComplementNB`` trains in seconds and matched the SVM on the synthetic data,
whose words are drawn independently, i.e. NB's own assumption; on real text the SVM is
usually ahead.) Its margins are not probabilities, so they are calibrated by *temperature
scaling* (``softmax(margins / T)``, the one parameter ``T`` fitted by log-loss on held-out
data; the method scikit-learn's ``CalibratedClassifierCV(method="temperature")``
implements, done here on the stored weights so prediction needs no estimator object):
one parameter cannot overfit
a small held-out set with hundreds of classes, unlike a per-class Platt or isotonic fit,
and it keeps the class ranking, so top-3 is unchanged. The held-out set is split by purchase
(``groups``) so items of one tender, which resemble each other, are not on both sides.

**Abstention.** On the same held-out set the model picks the lowest probability threshold
at which the precision of the items it classifies (``prob >= threshold``) reaches the target
(default 0.95), with a one-sided lower confidence bound so the target holds on new data too;
below the threshold :meth:`ItemClassifier.predict` gives ``None``: the item is "unclassified"
and rules that need a class skip it rather than use a likely wrong one.

**Speed.** Prediction deduplicates the descriptions (PNCP repeats them a lot), computes the
char n-grams through a per-word cache (the features of a description are the union of its
words', so each distinct word is analysed once; equal to scikit-learn's ``char_wb`` output)
and multiplies by the class weights (stored sparse, multiplied dense), in batches.

**Price anomalies.** :func:`robust_z` gives the robust z of log prices within a group
(median and scaled MAD); :func:`isolation_scores` an Isolation Forest per group as a second
opinion (one feature, so a vectorised implementation of the algorithm: scikit-learn's costs
~0.1 s per group whatever its size, minutes for a year's thousands of groups).
"""

from __future__ import annotations

import math
import pickle
import re
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import sklearn
from scipy.optimize import minimize_scalar
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupShuffleSplit, ShuffleSplit
from sklearn.svm import LinearSVC

__all__ = [
    "FORMAT_VERSION",
    "ItemClassifier",
    "ModelMetadata",
    "ModelVersionError",
    "choose_threshold",
    "evaluate",
    "isolation_scores",
    "normalise",
    "robust_z",
    "train",
]

# Bump when the saved layout changes; a model of another format version is refused.
FORMAT_VERSION = 1
_MAGIC = "painel.procurement.ml.ItemClassifier"

# ---------------------------------------------------------------------------------------------
# Text normalisation
# ---------------------------------------------------------------------------------------------

# Unit spellings -> one token (whole words only, after lowercasing and accent stripping).
_UNITS: dict[str, str] = {}
for _canonical, _spellings in {
    "un": "un und unid unds unids unidade unidades",
    "l": "l lt lts ltr ltrs litro litros",
    "ml": "ml mls mililitro mililitros",
    "kg": "kg kgs kilo kilos quilo quilos quilograma quilogramas",
    "g": "g gr grs grama gramas",
    "mg": "mg miligrama miligramas",
    "m": "m mt mts metro metros",
    "cm": "cm centimetro centimetros",
    "mm": "mm milimetro milimetros",
    "m2": "m2 metro2",
    "m3": "m3 metro3",
    "cx": "cx cxs caixa caixas",
    "pct": "pct pcts pcte pctes pacote pacotes",
    "fr": "fr fco frs frasco frascos",
    "rl": "rl rolo rolos",
    "gl": "gl galao galoes",
}.items():
    for _s in _spellings.split():
        _UNITS[_s] = _canonical

_SLASH = re.compile(r"\b([cs])/")  # "c/" com, "s/" sem
_TIMES = re.compile(r"(?<=\d)\s*x\s*(?=\d)")  # "12x1" -> "12 x 1"
_NUMBER = re.compile(r"(?<![a-z])\d+(?:[.,]\d+)*")  # a number not glued to a preceding letter
_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalise(text: str) -> str:
    """Lowercase, strip accents, keep letters and digits, one space between words.

    Numbers become ``0`` and are split from a unit glued to them ("500ML" -> "0 ml",
    "1,5 kg" -> "0 kg"); a digit glued after letters stays ("A4", "R134A"); unit spellings
    become one token ("litros", "lt" -> "l"; "unid" -> "un"; "cx" -> "cx"); "c/" and "s/"
    become "com" and "sem". Magnitudes rarely tell the class and fragment the vocabulary."""
    t = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode("ascii")
    t = _SLASH.sub(lambda m: "com " if m.group(1) == "c" else "sem ", t)
    t = _TIMES.sub(" x ", t)
    t = _NUMBER.sub(" 0 ", t)
    words = _NON_WORD.sub(" ", t).split()
    return " ".join([_UNITS.get(w, w) for w in words])


def _normalise_many(texts: Iterable[object]) -> list[str]:
    """:func:`normalise` over ``texts`` (None/NaN -> ""), each distinct text once."""
    cache: dict[object, str] = {}
    out: list[str] = []
    for t in texts:
        s = cache.get(t)
        if s is None:
            s = normalise(t) if isinstance(t, str) else ""
            cache[t] = s
        out.append(s)
    return out


# ---------------------------------------------------------------------------------------------
# Features
# ---------------------------------------------------------------------------------------------


def _vectorisers(
    *, min_df: int, word_max_features: int | None, char_max_features: int | None
) -> tuple[Any, Any]:
    common: dict[str, Any] = {
        "lowercase": False,  # normalise() did it
        "min_df": min_df,
        "sublinear_tf": True,
        "dtype": np.float32,
    }
    word = TfidfVectorizer(
        analyzer="word",
        ngram_range=(1, 2),
        token_pattern=r"\b\w+\b",  # keep one-letter tokens: units ("l", "m") and "0"
        max_features=word_max_features,
        **common,
    )
    char = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(3, 5), max_features=char_max_features, **common
    )
    return word, char


def _word_ngrams(word: str, min_n: int, max_n: int) -> list[str]:
    """scikit-learn's ``char_wb`` n-grams of one word (``_char_wb_ngrams``)."""
    w = " " + word + " "
    out: list[str] = []
    for n in range(min_n, max_n + 1):
        offset = 0
        out.append(w[offset : offset + n])
        while offset + n < len(w):
            offset += 1
            out.append(w[offset : offset + n])
        if offset == 0:  # a word shorter than n is counted once
            break
    return out


def _char_wb_transform(vectoriser: Any, docs: Sequence[str]) -> sp.csr_matrix:
    """``vectoriser.transform(docs)`` for a fitted ``char_wb`` TfidfVectorizer, analysing each
    distinct word once. ``docs`` are normalised (single spaces, no case or accent left)."""
    vocabulary: dict[str, int] = vectoriser.vocabulary_
    min_n, max_n = vectoriser.ngram_range
    cache: dict[str, list[int]] = {}
    indices: list[int] = []
    indptr = np.empty(len(docs) + 1, dtype=np.int64)
    indptr[0] = 0
    for i, doc in enumerate(docs):
        for w in doc.split():
            idx = cache.get(w)
            if idx is None:
                idx = [vocabulary[g] for g in _word_ngrams(w, min_n, max_n) if g in vocabulary]
                cache[w] = idx
            indices.extend(idx)
        indptr[i + 1] = len(indices)
    n_features = len(vocabulary)
    index_dtype = np.int32 if max(n_features, len(indices)) < 2**31 else np.int64
    x = sp.csr_matrix(
        (
            np.ones(len(indices), dtype=np.float32),
            np.asarray(indices, dtype=index_dtype),
            indptr.astype(index_dtype),
        ),
        shape=(len(docs), n_features),
    )
    x.sum_duplicates()
    # tf-idf as TfidfTransformer(sublinear_tf=True, norm="l2", smooth_idf=True) does
    np.log(x.data, out=x.data)
    x.data += 1.0
    x.data *= vectoriser.idf_.astype(np.float32)[x.indices]
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    x.data /= np.repeat(norms, np.diff(x.indptr)).astype(np.float32)
    return x


# ---------------------------------------------------------------------------------------------
# The classifier
# ---------------------------------------------------------------------------------------------


class ModelVersionError(RuntimeError):
    """A saved model that this code or this scikit-learn cannot load safely."""


@dataclass
class ModelMetadata:
    """What trained a model and how well it did on its held-out set."""

    dataset_version: str  # the version of the dataset that trained it (the caller's string)
    trained_at: str  # ISO 8601, UTC
    n_train: int  # items the weights were fitted on
    n_holdout: int  # items the temperature and the threshold were chosen on
    classes: list[str]
    threshold: float  # calibrated probability at or above which a class is given
    target_precision: float
    temperature: float
    seed: int
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)  # on the held-out set
    sklearn_version: str = sklearn.__version__
    format_version: int = FORMAT_VERSION

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class ItemClassifier:
    """A trained item classifier (see :func:`train`); :meth:`predict` classifies descriptions."""

    def __init__(
        self,
        word: Any,
        char: Any,
        weights: sp.csr_matrix,
        intercept: np.ndarray,
        metadata: ModelMetadata,
    ) -> None:
        self._word = word
        self._char = char
        self._weights = weights  # features x classes, sparse (float32)
        self._dense: np.ndarray | None = None
        self._intercept = intercept  # classes
        self.metadata = metadata
        self.classes = np.asarray(metadata.classes, dtype=object)

    @property
    def threshold(self) -> float:
        return self.metadata.threshold

    # -- scoring ----------------------------------------------------------------------------

    def _features(self, docs: Sequence[str]) -> sp.csr_matrix:
        return sp.hstack(
            [self._word.transform(docs), _char_wb_transform(self._char, docs)], format="csr"
        )

    def _dense_weights(self) -> np.ndarray:
        # sparse to store, dense to multiply: a sparse matrix times a dense one is ~6x faster
        # than sparse times sparse when most documents score most classes
        dense: np.ndarray | None = getattr(self, "_dense", None)
        if dense is None:
            dense = self._dense = self._weights.toarray()
        return dense

    def _margins(self, docs: Sequence[str]) -> np.ndarray:
        scores = np.asarray(self._features(docs) @ self._dense_weights(), dtype=np.float64)
        scores += self._intercept
        return scores

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_dense"] = None  # rebuilt on first use
        return state

    def _proba(self, margins: np.ndarray) -> np.ndarray:
        return _softmax(margins / self.metadata.temperature)

    def predict_proba(self, descriptions: Iterable[object]) -> np.ndarray:
        """Calibrated probabilities, one row per description, columns :attr:`classes`."""
        return self._proba(self._margins(_normalise_many(descriptions)))

    def _top(
        self, descriptions: Iterable[object], k: int, batch_size: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` most probable class indices and their probabilities, computed once per
        distinct normalised description, in batches."""
        raw = pd.Series(list(descriptions), dtype=object)
        raw_codes, raw_uniques = pd.factorize(raw, use_na_sentinel=False)
        normalised = _normalise_many(raw_uniques)
        norm_codes, uniques = pd.factorize(pd.Series(normalised, dtype=object))
        k = min(k, len(self.classes))
        top_idx = np.empty((len(uniques), k), dtype=np.int32)
        top_p = np.empty((len(uniques), k), dtype=np.float64)
        docs = list(uniques)
        for start in range(0, len(docs), batch_size):
            p = self._proba(self._margins(docs[start : start + batch_size]))
            part = (
                np.argpartition(-p, k - 1, axis=1)[:, :k]
                if k < p.shape[1]
                else np.tile(np.arange(k), (len(p), 1))
            )
            part_p = np.take_along_axis(p, part, axis=1)
            order = np.argsort(-part_p, axis=1, kind="stable")
            top_idx[start : start + len(p)] = np.take_along_axis(part, order, axis=1)
            top_p[start : start + len(p)] = np.take_along_axis(part_p, order, axis=1)
        rows = norm_codes[raw_codes]
        return top_idx[rows], top_p[rows]

    def predict(
        self,
        descriptions: Iterable[object],
        *,
        threshold: float | None = None,
        batch_size: int = 20_000,
    ) -> pd.DataFrame:
        """One row per description: ``classe`` (None when the model abstains: its calibrated
        probability is below ``threshold``, default the trained one), ``prob`` (the top
        class's calibrated probability, given even when abstaining) and ``top3`` (the three
        most probable classes, a list, most probable first; two for a two-class model)."""
        threshold = self.threshold if threshold is None else threshold
        idx, p = self._top(descriptions, 3, batch_size)
        classe = self.classes[idx[:, 0]]  # object array: None marks an abstention
        classe[p[:, 0] < threshold] = None
        return pd.DataFrame(
            {
                "classe": pd.Series(classe, dtype=object),
                "prob": p[:, 0],
                "top3": pd.Series(self.classes[idx].tolist(), dtype=object),
            }
        )

    def score(self, descriptions: Sequence[object], labels: Sequence[str]) -> dict[str, Any]:
        """Metrics on labelled items (see :func:`_metrics`)."""
        idx, p = self._top(descriptions, 3, 20_000)
        return _metrics(
            np.asarray(labels, dtype=object), self.classes, idx, p[:, 0], self.threshold
        )

    # -- persistence ------------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """Write the model to ``path``: a header (format version, scikit-learn version,
        metadata) then the model, both pickled. Load only files you wrote: unpickling runs
        code."""
        path = Path(path)
        header = {
            "magic": _MAGIC,
            "format_version": FORMAT_VERSION,
            "sklearn_version": sklearn.__version__,
            "metadata": self.metadata.as_dict(),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("wb") as f:
            pickle.dump(header, f, protocol=pickle.HIGHEST_PROTOCOL)
            pickle.dump(self, f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path, *, allow_version_mismatch: bool = False) -> ItemClassifier:
        """Read a model written by :meth:`save`.

        The header is read first (plain Python values only), so a model written by another
        format version or another scikit-learn version is refused with
        :class:`ModelVersionError` before its objects are unpickled: scikit-learn does not
        promise that a model pickled by one version works in another. Retrain it, or pass
        ``allow_version_mismatch=True`` to try anyway (predictions are then checked by
        nobody)."""
        path = Path(path)
        with path.open("rb") as f:
            try:
                header = pickle.load(f)
            except Exception as e:
                raise ModelVersionError(f"{path}: not a painel item classifier ({e})") from e
            if not isinstance(header, dict) or header.get("magic") != _MAGIC:
                raise ModelVersionError(f"{path}: not a painel item classifier")
            fmt = header.get("format_version")
            if fmt != FORMAT_VERSION:
                raise ModelVersionError(
                    f"{path}: model file format {fmt}, this painel reads format "
                    f"{FORMAT_VERSION}; retrain the model"
                )
            saved = header.get("sklearn_version")
            if saved != sklearn.__version__ and not allow_version_mismatch:
                raise ModelVersionError(
                    f"{path}: model trained with scikit-learn {saved}, this is scikit-learn "
                    f"{sklearn.__version__}; retrain the model (dataset "
                    f"{header['metadata'].get('dataset_version')!r}) or load it with "
                    "allow_version_mismatch=True"
                )
            model = pickle.load(f)
        if not isinstance(model, cls):
            raise ModelVersionError(f"{path}: not a painel item classifier")
        return model


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def _fit_temperature(margins: np.ndarray, target: np.ndarray) -> float:
    """The temperature minimising the log-loss of ``softmax(margins / T)`` against the class
    indices ``target`` (rows whose class the model does not know are skipped)."""
    known = target >= 0
    if not known.any():
        return 1.0
    m, y = margins[known], target[known]

    def loss(log_t: float) -> float:
        z = m / math.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        logsum = np.log(np.exp(z).sum(axis=1))
        return float(np.mean(logsum - z[np.arange(len(y)), y]))

    res = minimize_scalar(loss, bounds=(math.log(1e-3), math.log(1e2)), method="bounded")
    return float(math.exp(res.x))


def choose_threshold(
    prob: np.ndarray, correct: np.ndarray, target: float = 0.95, *, z: float = 1.645
) -> float:
    """The lowest probability threshold ``t`` at which the items with ``prob >= t`` are
    correct at a rate whose one-sided Wilson lower bound (``z`` standard errors; 0 for the
    plain rate) is at least ``target``: a threshold that reaches the target on new data too,
    not only on these items. ``inf`` when no threshold does: the model then always abstains.
    ``prob`` are the top class's probabilities, ``correct`` whether the top class is right."""
    prob = np.asarray(prob, dtype=float)
    correct = np.asarray(correct, dtype=bool)
    if prob.size == 0:
        return math.inf
    order = np.argsort(-prob, kind="stable")
    p_sorted, c_sorted = prob[order], correct[order]
    # a candidate cut after each run of equal probabilities
    last_of_run = np.r_[p_sorted[1:] != p_sorted[:-1], True]
    n = np.arange(1, len(p_sorted) + 1)[last_of_run]
    k = np.cumsum(c_sorted)[last_of_run]
    phat = k / n
    centre = phat + z * z / (2 * n)
    margin = z * np.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n))
    lower = (centre - margin) / (1 + z * z / n)
    ok = np.flatnonzero(lower >= target)
    if ok.size == 0:
        return math.inf
    return float(p_sorted[last_of_run][ok[-1]])


def _metrics(
    y: np.ndarray, classes: np.ndarray, top_idx: np.ndarray, prob: np.ndarray, threshold: float
) -> dict[str, Any]:
    """``macro_f1`` and ``accuracy`` of the top class on all items (no abstention; macro over
    the classes present in ``y``), ``top3_accuracy``, ``coverage`` (share classified, not
    abstained), ``precision_classified`` (accuracy on that share; NaN if none),
    ``macro_f1_classified``, ``n`` and ``unknown_class_share`` (items whose true class the
    model never saw)."""
    n = len(y)
    if n == 0:
        return {"n": 0}
    top1 = classes[top_idx[:, 0]]
    correct = top1 == y
    top3 = (classes[top_idx] == y[:, None]).any(axis=1)
    classified = prob >= threshold
    present = np.unique(y)
    out: dict[str, Any] = {
        "n": int(n),
        "accuracy": float(correct.mean()),
        "macro_f1": float(f1_score(y, top1, labels=present, average="macro", zero_division=0)),
        "top3_accuracy": float(top3.mean()),
        "coverage": float(classified.mean()),
        "precision_classified": float(correct[classified].mean()) if classified.any() else math.nan,
        "macro_f1_classified": (
            float(
                f1_score(
                    y[classified],
                    top1[classified],
                    labels=np.unique(y[classified]),
                    average="macro",
                    zero_division=0,
                )
            )
            if classified.any()
            else math.nan
        ),
        "unknown_class_share": float((~np.isin(y, classes)).mean()),
        "threshold": float(threshold),
    }
    return out


def train(
    descriptions: Sequence[str],
    labels: Sequence[str],
    *,
    groups: Sequence[str] | None = None,
    seed: int = 0,
    target_precision: float = 0.95,
    dataset_version: str = "unversioned",
    holdout: float = 0.2,
    confidence_z: float = 1.645,
    c: float = 0.5,
    min_df: int = 2,
    word_max_features: int | None = 200_000,
    char_max_features: int | None = 300_000,
    prune: float = 1e-3,
) -> ItemClassifier:
    """Train an item classifier on labelled descriptions.

    ``holdout`` of the items (whole ``groups`` - purchases - when given) are kept out of the
    weights' fit; on them the temperature is fitted and the abstention threshold chosen
    (:func:`choose_threshold` with ``target_precision`` and ``confidence_z``). ``c`` is the
    SVM's regularisation, ``min_df`` the minimum items a feature must occur in, the
    ``*_max_features`` cap each vocabulary. Weights below ``prune`` times the largest
    absolute weight are dropped (they do not change the ranking measurably and make the
    weight matrix sparse, hence prediction fast). ``dataset_version`` is recorded in
    :attr:`ItemClassifier.metadata`."""
    started = time.perf_counter()
    x_text = np.asarray(_normalise_many(descriptions), dtype=object)
    y = np.asarray(labels, dtype=object).astype(str)
    if len(x_text) != len(y):
        raise ValueError(f"{len(x_text)} descriptions but {len(y)} labels")
    if groups is not None:
        g = np.asarray(groups, dtype=object)
        if len(g) != len(y):
            raise ValueError(f"{len(y)} labels but {len(g)} groups")
        fit_idx, hold_idx = next(
            GroupShuffleSplit(n_splits=1, test_size=holdout, random_state=seed).split(
                x_text, y, groups=g
            )
        )
    else:
        fit_idx, hold_idx = next(
            ShuffleSplit(n_splits=1, test_size=holdout, random_state=seed).split(x_text)
        )
    if len(np.unique(y[fit_idx])) < 2:
        raise ValueError("training needs at least two classes")

    word, char = _vectorisers(
        min_df=min_df, word_max_features=word_max_features, char_max_features=char_max_features
    )
    fit_docs = list(x_text[fit_idx])
    x_fit = sp.hstack([word.fit_transform(fit_docs), char.fit_transform(fit_docs)], format="csr")
    # liblinear's own one-vs-rest: the features are converted once for all classes
    # (scikit-learn's OneVsRestClassifier converts them per class: 2.4x slower, same weights);
    # and the dual solver always: dual="auto" picks the primal (TRON) once there are more
    # items than features, 1.8x slower on 47,156 items and over 10 minutes at the state's scale
    svc = LinearSVC(C=c, random_state=seed, dual=True)
    svc.fit(x_fit, y[fit_idx])
    coef = np.asarray(svc.coef_, dtype=np.float32)
    intercept = np.asarray(svc.intercept_, dtype=np.float64)
    classes = np.asarray(svc.classes_, dtype=object)
    if len(classes) == 2:  # binary: one vector, for classes[1]
        coef = (np.vstack([-coef[0], coef[0]]) / 2).astype(np.float32)
        intercept = np.array([-intercept[0], intercept[0]]) / 2
    if prune > 0:
        coef[np.abs(coef) < prune * np.abs(coef).max()] = 0
    weights = sp.csr_matrix(coef.T)

    meta = ModelMetadata(
        dataset_version=dataset_version,
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        n_train=len(fit_idx),
        n_holdout=len(hold_idx),
        classes=[str(k) for k in classes],
        threshold=math.inf,
        target_precision=target_precision,
        temperature=1.0,
        seed=seed,
        params={
            "model": "LinearSVC+temperature",
            "C": c,
            "holdout": holdout,
            "confidence_z": confidence_z,
            "min_df": min_df,
            "word_max_features": word_max_features,
            "char_max_features": char_max_features,
            "prune": prune,
            "fit_seconds": round(time.perf_counter() - started, 1),
            "n_features": int(x_fit.shape[1]),
            "weights_nnz": int(weights.nnz),
        },
    )
    model = ItemClassifier(word, char, weights, intercept, meta)
    if len(hold_idx):
        hold_docs = list(x_text[hold_idx])
        margins = model._margins(hold_docs)
        index = {k: i for i, k in enumerate(meta.classes)}
        target = np.array([index.get(k, -1) for k in y[hold_idx]])
        meta.temperature = _fit_temperature(margins, target)
        p = model._proba(margins)
        top1 = p.argmax(axis=1)
        prob = p[np.arange(len(p)), top1]
        meta.threshold = choose_threshold(prob, top1 == target, target_precision, z=confidence_z)
        top3 = np.argsort(-p, axis=1)[:, :3]
        meta.metrics = _metrics(y[hold_idx], classes, top3, prob, meta.threshold)
    return model


def evaluate(
    descriptions: Sequence[str],
    labels: Sequence[str],
    dates: Sequence[Any],
    *,
    cut: Any,
    end: Any = None,
    groups: Sequence[str] | None = None,
    seed: int = 0,
    target_precision: float = 0.95,
    dataset_version: str = "unversioned",
    **train_kwargs: Any,
) -> dict[str, Any]:
    """Time-split evaluation: train (:func:`train`) on the items dated before ``cut``, test on
    those dated at or after ``cut`` (and before ``end`` when given).

    Returns the test metrics (``macro_f1``, ``top3_accuracy``, ``coverage``,
    ``precision_classified``, ``accuracy``, ``macro_f1_classified``, ``unknown_class_share``,
    ``threshold``), the ``majority_baseline`` accuracy (the commonest training class for
    every item), sizes, the cut and the dataset version: plain values for docs and the
    Qualidade panel."""
    d = pd.to_datetime(pd.Series(list(dates)))
    cut_ts = pd.Timestamp(cut)
    train_mask = (d < cut_ts).to_numpy()
    test_mask = (d >= cut_ts).to_numpy()
    if end is not None:
        test_mask &= (d < pd.Timestamp(end)).to_numpy()
    x = np.asarray(list(descriptions), dtype=object)
    y = np.asarray(list(labels), dtype=object).astype(str)
    g = None if groups is None else np.asarray(list(groups), dtype=object)[train_mask]
    if not train_mask.any() or not test_mask.any():
        raise ValueError(
            f"cut {cut_ts} leaves {train_mask.sum()} items to train, {test_mask.sum()} to test"
        )
    model = train(
        list(x[train_mask]),
        list(y[train_mask]),
        groups=None if g is None else list(g),
        seed=seed,
        target_precision=target_precision,
        dataset_version=dataset_version,
        **train_kwargs,
    )
    metrics = model.score(list(x[test_mask]), list(y[test_mask]))
    values, counts = np.unique(y[train_mask], return_counts=True)
    majority = values[counts.argmax()]
    metrics.update(
        majority_baseline=float((y[test_mask] == majority).mean()),
        target_precision=target_precision,
        n_train=int(train_mask.sum()),
        n_test=int(test_mask.sum()),
        n_classes=len(model.classes),
        cut=str(cut_ts.date()) if cut_ts == cut_ts.normalize() else str(cut_ts),
        dataset_version=dataset_version,
        holdout_metrics=model.metadata.metrics,
    )
    return metrics


# ---------------------------------------------------------------------------------------------
# Price anomalies
# ---------------------------------------------------------------------------------------------

MAD_SCALE = 1.4826  # MAD x 1.4826 estimates the standard deviation of a normal


def _group_keys(groups: Any, n: int) -> list[Any]:
    """``groups`` as a list of key arrays for ``groupby``: a Series/array, a DataFrame (one
    key per column) or a list of arrays."""
    if isinstance(groups, pd.DataFrame):
        keys = [groups[c].to_numpy() for c in groups.columns]
    elif isinstance(groups, list | tuple) and groups and np.ndim(groups[0]) == 1:
        keys = [np.asarray(k) for k in groups]
    else:
        keys = [np.asarray(groups)]
    for k in keys:
        if len(k) != n:
            raise ValueError(f"{n} values but a group key of {len(k)}")
    return keys


def robust_z(values: Any, groups: Any, *, min_n: int = 5, threshold: float = 3.5) -> pd.DataFrame:
    """The robust z of each log price within its group, and whether it is an anomaly.

    ``z = (log v - median(log v)) / (1.4826 * MAD(log v))`` over the group's valid values
    (finite and > 0). ``z`` is NaN for an invalid value, a row without a group key, a group
    with fewer than ``min_n`` valid values or a MAD of 0 (more than half the prices equal).
    ``flag`` is ``|z| > threshold`` (False where z is NaN); ``n`` the group's valid count.
    The result has ``values``' index when it is a Series, else a RangeIndex."""
    index = values.index if isinstance(values, pd.Series) else None
    v = np.asarray(values, dtype=np.float64)
    n_rows = len(v)
    with np.errstate(divide="ignore", invalid="ignore"):
        logv = np.where(np.isfinite(v) & (v > 0), np.log(v), np.nan)
    frame = pd.DataFrame({"x": logv})
    grouped = frame.groupby(_group_keys(groups, n_rows), sort=False, dropna=True)["x"]
    med = grouped.transform("median").to_numpy()
    n = grouped.transform("count").to_numpy()
    frame["dev"] = np.abs(logv - med)
    mad = frame.groupby(_group_keys(groups, n_rows), sort=False, dropna=True)["dev"].transform(
        "median"
    )
    scale = MAD_SCALE * mad.to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (logv - med) / scale
    z[~((n >= min_n) & (scale > 0))] = np.nan
    out = pd.DataFrame(
        {
            "z": z,
            "flag": np.abs(np.nan_to_num(z, nan=0.0)) > threshold,
            "n": np.nan_to_num(n).astype(np.int64),
        },
        index=index,
    )
    return out


def _average_path(n: np.ndarray) -> np.ndarray:
    """c(n): the average path length of an unsuccessful search in a binary search tree of
    ``n`` points (Liu et al. 2008), as scikit-learn's IsolationForest uses it."""
    n = np.asarray(n, dtype=np.float64)
    out = np.zeros_like(n)
    out[n == 2] = 1.0
    big = n > 2
    out[big] = 2.0 * (np.log(n[big] - 1.0) + np.euler_gamma) - 2.0 * (n[big] - 1.0) / n[big]
    return out


def _isolation_forest_1d(
    x: np.ndarray, *, n_estimators: int, max_samples: int, rng: np.random.Generator
) -> np.ndarray:
    """Isolation Forest anomaly scores ``2 ** (-E[h(x)] / c(psi))`` of the values ``x``, the
    forest grown on ``x`` itself: the algorithm of Liu et al. (and scikit-learn's: ``psi =
    min(max_samples, n)`` points per tree without replacement, height limit
    ``ceil(log2 psi)``, uniform splits between a node's min and max, ``x <= split`` goes
    left, a leaf adds ``c(size)``), specialised to one feature and vectorised.

    In one dimension a tree's leaves are intervals, so every tree is its sorted split points
    plus the path length of each leaf, and a value's leaf is a ``searchsorted``. The trees
    are grown all at once, level by level, in one array where tree ``t``'s sample is shifted
    by ``t * K`` (``K`` > the value range) so all trees sort together. scikit-learn's
    IsolationForest costs ~1 ms per tree whatever the data (~0.1 s per group): minutes for
    the thousands of (class, unit) groups of a year's items; this takes ~1 ms per group."""
    n = len(x)
    psi = min(max_samples, n)
    height = math.ceil(math.log2(max(psi, 2)))
    lo_x = float(x.min())
    span = float(x.max()) - lo_x
    k = span + 1.0
    if psi < n:
        pick = np.argpartition(rng.random((n_estimators, n)), psi - 1, axis=1)[:, :psi]
        sample = x[pick]
    else:
        sample = np.broadcast_to(x, (n_estimators, n))
    shift = np.arange(n_estimators, dtype=np.float64) * k
    flat = (np.sort(sample, axis=1) - lo_x + shift[:, None]).ravel()  # globally sorted

    start = np.arange(n_estimators) * psi  # the nodes of the current level: [start, end)
    end = start + psi
    splits: list[np.ndarray] = []
    leaf_key: list[np.ndarray] = []  # a leaf's smallest value: orders the leaves
    leaf_path: list[np.ndarray] = []
    for depth in range(height + 1):
        size = end - start
        lo, hi = flat[start], flat[end - 1]
        leaf = (size <= 1) | (hi <= lo) | (depth >= height)
        leaf_key.append(lo[leaf])
        leaf_path.append(depth + _average_path(size[leaf]))
        start, end, lo, hi = start[~leaf], end[~leaf], lo[~leaf], hi[~leaf]
        if start.size == 0:
            break
        cut = lo + rng.random(start.size) * (hi - lo)
        splits.append(cut)
        mid = np.searchsorted(flat, cut, side="right")  # x <= cut goes left
        start, end = np.concatenate([start, mid]), np.concatenate([mid, end])
    thresholds = np.sort(np.concatenate(splits)) if splits else np.empty(0)
    key = np.concatenate(leaf_key)
    path = np.concatenate(leaf_path)[np.argsort(key, kind="stable")]

    uniq, inverse = np.unique(x, return_inverse=True)  # prices repeat: score each value once
    query = (uniq - lo_x)[None, :] + shift[:, None]  # trees x values
    leaf_index = np.searchsorted(thresholds, query, side="left") + np.arange(n_estimators)[:, None]
    mean_path = path[leaf_index].mean(axis=0)
    score = np.power(2.0, -mean_path / _average_path(np.array([psi]))[0])
    return score[inverse]


def isolation_scores(
    frame: pd.DataFrame,
    group_cols: Sequence[str],
    value_col: str,
    *,
    min_n: int = 20,
    contamination: float | str = 0.02,
    n_estimators: int = 100,
    max_samples: int = 256,
    random_state: int = 0,
) -> pd.DataFrame:
    """Isolation Forest on the log of ``value_col`` within each group of ``group_cols``
    (e.g. class and unit) with at least ``min_n`` valid (finite, > 0) values: a second
    opinion to :func:`robust_z` that does not assume one central mode.

    Returns, with ``frame``'s index, ``score`` (the anomaly score in (0, 1]: about 0.5 or
    less is ordinary, near 1 isolated at once) and ``flag`` (the ``contamination`` share
    most anomalous of its group; ``"auto"``: score > 0.5). NaN / False outside the eligible
    groups. Each group's forest draws from ``numpy.random.default_rng(random_state)``: the
    result is deterministic. The forest is :func:`_isolation_forest_1d`, the same algorithm
    as scikit-learn's ``IsolationForest`` on one feature, ~100x faster per group."""
    if isinstance(contamination, str) and contamination != "auto":
        raise ValueError(f"contamination must be a share or 'auto', not {contamination!r}")
    v = frame[value_col].to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        logv = np.where(np.isfinite(v) & (v > 0), np.log(v), np.nan)
    score = np.full(len(frame), np.nan)
    flag = np.zeros(len(frame), dtype=bool)
    valid = ~np.isnan(logv)
    positions = np.flatnonzero(valid)
    if positions.size == 0:
        return pd.DataFrame({"score": score, "flag": flag}, index=frame.index)
    keys = [frame[c].to_numpy()[valid] for c in group_cols]
    for _, group in pd.Series(positions).groupby(keys, sort=True, dropna=True):
        if len(group) < min_n:
            continue
        pos = group.to_numpy()
        rng = np.random.default_rng(random_state)
        s = _isolation_forest_1d(
            logv[pos], n_estimators=n_estimators, max_samples=max_samples, rng=rng
        )
        score[pos] = s
        if contamination == "auto":
            flag[pos] = s > 0.5
        else:
            flag[pos] = s > np.quantile(s, 1.0 - float(contamination))
    return pd.DataFrame({"score": score, "flag": flag}, index=frame.index)
