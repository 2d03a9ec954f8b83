"""The procurement suite's machine learning: item classes from free-text descriptions (with
abstention) and price anomalies (robust log-z, Isolation Forest), on synthetic data made here."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn

from painel.procurement import ml

# ---------------------------------------------------------------------------------------------
# Synthetic items: Portuguese-like descriptions drawn from per-class vocabularies with noise
# ---------------------------------------------------------------------------------------------

_ONSETS = ["b", "c", "d", "f", "g", "l", "m", "n", "p", "r", "s", "t", "v", "ch", "lh", "nh",
           "qu", "gr", "pr", "tr", "br", "cr", "pl", "fl"]  # fmt: skip
_VOWELS = ["a", "e", "i", "o", "u", "a", "e", "o", "á", "é", "ó", "ã", "ê", "í"]
_ENDINGS = ["", "", "", "ção", "dor", "eira", "ico", "ável", "mento", "ente", "oso", "ista", "al"]
_GENERIC = [
    "tipo", "material", "cor", "uso", "referência", "modelo", "aplicação", "características",
    "adicionais", "mínimo", "máximo", "embalagem", "formato", "acabamento", "dimensões",
    "padrão", "comum", "especial", "qualidade", "resistente", "descartável", "reutilizável",
    "industrial",
]  # fmt: skip
_MEASURES = [("ML", 50, 1000), ("L", 1, 20), ("KG", 1, 50), ("G", 10, 900), ("MM", 1, 300),
             ("CM", 5, 200), ("M", 1, 100), ("UN", 1, 500)]  # fmt: skip


def _word(rng: np.random.Generator) -> str:
    syllables = "".join(
        str(rng.choice(_ONSETS)) + str(rng.choice(_VOWELS)) for _ in range(rng.integers(2, 4))
    )
    return syllables + str(rng.choice(_ENDINGS))


def _noisy(word: str, rng: np.random.Generator) -> str:
    u = rng.random()
    if u < 0.12 and len(word) > 5:  # abbreviation: "esferográfica" -> "esfer."
        return word[: rng.integers(3, 6)] + "."
    if u < 0.16 and len(word) > 4:  # typo: a dropped letter
        i = int(rng.integers(1, len(word) - 1))
        return word[:i] + word[i + 1 :]
    return word


def make_items(
    n: int, n_classes: int = 30, *, seed: int = 0, label_noise: float = 0.02
) -> pd.DataFrame:
    """``n`` items of ``n_classes`` classes: descricao, classe, data, compra.

    Classes come in families of three that share words (and sometimes a head noun), class
    frequencies are Zipf-like, descriptions are upper/lower/title-cased, lose accents, carry
    abbreviations, typos and measures; ``label_noise`` of the labels are a random class.
    Purchases (``compra``) hold 1-12 items of one family on one date in 2023-2026."""
    rng = np.random.default_rng(seed)
    n_families = (n_classes + 2) // 3
    family_words = [[_word(rng) for _ in range(8)] for _ in range(n_families)]
    family_heads = [_word(rng) for _ in range(n_families)]
    heads = [[_word(rng) for _ in range(2)] for _ in range(n_classes)]
    specific = [[_word(rng) for _ in range(10)] for _ in range(n_classes)]
    weights = 1.0 / np.arange(1, n_classes + 1) ** 0.6
    weights /= weights.sum()
    days = pd.date_range("2023-01-01", "2026-12-31", freq="D")
    rows: list[tuple[str, str, pd.Timestamp, str]] = []
    compra = 0
    while len(rows) < n:
        compra += 1
        date = days[rng.integers(len(days))]
        first = int(rng.choice(n_classes, p=weights))
        family = first // 3
        siblings = [c for c in range(family * 3, min(family * 3 + 3, n_classes))]
        for _ in range(int(rng.integers(1, 13))):
            c = first if rng.random() < 0.6 else int(rng.choice(siblings))
            head = heads[c][rng.integers(2)] if rng.random() < 0.6 else family_heads[family]
            words = [head]
            for _ in range(int(rng.integers(1, 6))):
                u = rng.random()
                pool = specific[c] if u < 0.25 else family_words[family] if u < 0.7 else _GENERIC
                words.append(_noisy(str(rng.choice(pool)), rng))
            if rng.random() < 0.6:
                unit, lo, hi = _MEASURES[rng.integers(len(_MEASURES))]
                value = int(rng.integers(lo, hi + 1))
                words.append(f"{value}{unit}" if rng.random() < 0.5 else f"{value} {unit}")
            if rng.random() < 0.2:
                words.append(f"CX C/ {int(rng.integers(2, 200))} UN")
            text = " ".join(words)
            if rng.random() < 0.5:
                text = text.translate(str.maketrans("áéóãêíç", "aeoaeic"))
            u = rng.random()
            text = text.upper() if u < 0.6 else text.title() if u < 0.8 else text
            label = int(rng.integers(n_classes)) if rng.random() < label_noise else c
            rows.append((text, f"C{label:03d}", date, f"P{compra:06d}"))
    frame = pd.DataFrame(rows[:n], columns=["descricao", "classe", "data", "compra"])
    return frame


# ---------------------------------------------------------------------------------------------
# Item classifier
# ---------------------------------------------------------------------------------------------

CUT = "2026-01-01"


@pytest.fixture(scope="module")
def items() -> pd.DataFrame:
    return make_items(12_000, 30, seed=7)


@pytest.fixture(scope="module")
def model(items: pd.DataFrame) -> ml.ItemClassifier:
    before = items[items.data < CUT]
    return ml.train(before.descricao, before.classe, groups=before.compra, dataset_version="t1")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Água Mineral 500ML c/ gás", "agua mineral 0 ml com gas"),
        ("CX C/ 100 UNID.", "cx com 0 un"),
        ("Papel A4 75g/m2, resma", "papel a4 0 g m2 resma"),
        ("Detergente 12x1 Litros", "detergente 0 x 0 l"),
        ("  ÓLEO   lubrificante  1,5 lt ", "oleo lubrificante 0 l"),
    ],
)
def test_normalise_lowercases_strips_accents_and_collapses_numbers_and_units(
    text: str, expected: str
) -> None:
    assert ml.normalise(text) == expected


def test_the_fast_char_ngrams_equal_scikit_learns(model: ml.ItemClassifier) -> None:
    docs = [ml.normalise(t) for t in make_items(500, 30, seed=3).descricao] + ["", "a", "ab c"]
    fast = ml._char_wb_transform(model._char, docs)
    slow = model._char.transform(docs)
    assert fast.shape == slow.shape
    assert abs(fast - slow).max() < 1e-6


def test_the_classifier_beats_the_majority_baseline_and_abstention_meets_the_target(
    items: pd.DataFrame,
) -> None:
    m = ml.evaluate(
        items.descricao, items.classe, items.data, cut=CUT, groups=items.compra,
        dataset_version="t1",
    )  # fmt: skip
    assert m["n_test"] > 2000 and m["n_classes"] == 30
    assert m["majority_baseline"] < 0.15
    assert m["accuracy"] > m["majority_baseline"] + 0.5
    assert m["macro_f1"] > 0.7 and m["top3_accuracy"] > 0.9
    # abstaining lifts precision on the classified share to the target, covering most items
    assert m["precision_classified"] > m["accuracy"]
    assert m["precision_classified"] >= m["target_precision"] == 0.95
    assert 0.5 < m["coverage"] < 1.0
    assert m["cut"] == CUT and m["dataset_version"] == "t1"


def test_predict_abstains_below_the_threshold(
    model: ml.ItemClassifier, items: pd.DataFrame
) -> None:
    after = items[items.data >= CUT]
    out = model.predict(after.descricao)
    assert list(out.columns) == ["classe", "prob", "top3"] and len(out) == len(after)
    t = model.threshold
    assert 0 < t < 1
    assert out.classe[out.prob < t].isna().all()
    assert (out.classe[out.prob >= t] == out.top3[out.prob >= t].str[0]).all()
    assert out.top3.map(len).eq(3).all() and out.prob.between(0, 1).all()
    # a lower threshold classifies more; the trained one meets the target on held-out data
    assert (
        out.classe.notna().mean()
        < model.predict(after.descricao, threshold=0).classe.notna().mean()
    )
    classified = out.classe.notna().to_numpy()
    assert (out.classe[classified] == after.classe[classified].to_numpy()).mean() >= 0.95


def test_predict_handles_duplicates_missing_text_and_no_rows(model: ml.ItemClassifier) -> None:
    text = "CANETA ESFEROGRAFICA AZUL"
    out = model.predict([text, None, text, text.lower()])
    assert out.prob[0] == out.prob[2] == out.prob[3]
    assert out.top3[0] == out.top3[2]
    empty = model.predict([])
    assert list(empty.columns) == ["classe", "prob", "top3"] and empty.empty


def test_metadata_records_the_dataset_version_and_the_holdout(model: ml.ItemClassifier) -> None:
    meta = model.metadata
    assert meta.dataset_version == "t1" and meta.sklearn_version == sklearn.__version__
    assert len(meta.classes) == 30 and meta.n_train > 4 * meta.n_holdout > 0
    assert meta.metrics["precision_classified"] >= 0.95 and meta.threshold == model.threshold
    assert meta.trained_at.endswith("+00:00") and meta.temperature > 0


def test_save_and_load_give_identical_predictions(
    model: ml.ItemClassifier, items: pd.DataFrame, tmp_path: Path
) -> None:
    path = model.save(tmp_path / "m" / "itens.pkl")
    loaded = ml.ItemClassifier.load(path)
    sample = items.descricao[:500]
    pd.testing.assert_frame_equal(model.predict(sample), loaded.predict(sample))
    assert loaded.metadata == model.metadata


def test_a_model_of_another_sklearn_version_is_refused_clearly(
    model: ml.ItemClassifier, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as m:
        m.setattr(sklearn, "__version__", "0.99.0")
        path = model.save(tmp_path / "old.pkl")
    with pytest.raises(ml.ModelVersionError, match=r"trained with scikit-learn 0\.99\.0, this is"):
        ml.ItemClassifier.load(path)
    assert ml.ItemClassifier.load(path, allow_version_mismatch=True).threshold == model.threshold
    (tmp_path / "junk.pkl").write_bytes(b"not a model")
    with pytest.raises(ml.ModelVersionError, match="not a painel item classifier"):
        ml.ItemClassifier.load(tmp_path / "junk.pkl")


def test_choose_threshold_is_the_lowest_that_reaches_the_target() -> None:
    prob = np.array([0.99, 0.98, 0.97, 0.9, 0.8, 0.7, 0.6])
    correct = np.array([1, 1, 1, 1, 0, 1, 0], dtype=bool)
    assert ml.choose_threshold(prob, correct, 0.8, z=0) == 0.7  # 5/6 correct at >= 0.7
    assert ml.choose_threshold(prob, correct, 1.0, z=0) == 0.9
    assert ml.choose_threshold(prob, correct, 0.95, z=1.645) == math.inf  # too few to be sure


# ---------------------------------------------------------------------------------------------
# Price anomalies
# ---------------------------------------------------------------------------------------------


def test_robust_z_by_hand() -> None:
    logs_a = [0.0, 1.0, 2.0, 3.0, 4.0, 12.0]  # median 2.5; |dev| .5 .5 1.5 1.5 2.5 9.5 -> MAD 1.5
    values = pd.Series(
        np.exp(logs_a).tolist() + [10.0, 20.0, 30.0, 40.0] + [5.0] * 5 + [7.0] + [0.0, -1.0],
        index=[f"r{i}" for i in range(18)],
    )
    groups = ["A"] * 6 + ["B"] * 4 + ["C"] * 6 + ["A", "A"]
    out = ml.robust_z(values, groups)
    assert list(out.index) == list(values.index)
    expected = (np.array(logs_a) - 2.5) / (1.4826 * 1.5)
    np.testing.assert_allclose(out.z[:6], expected, rtol=1e-6)
    assert out.z.iloc[5] == pytest.approx(4.2718, abs=1e-4)
    assert out.flag.tolist()[:6] == [False] * 5 + [True]
    assert out.z[6:10].isna().all() and out.n.iloc[6] == 4  # n < 5
    assert out.z[10:16].isna().all()  # MAD 0
    assert out.z[16:].isna().all() and out.n.iloc[0] == 6  # non-positive prices are not counted
    assert not out.flag[6:].any()
    # thresholds and multi-column groups are parameters
    two = ml.robust_z(values, pd.DataFrame({"c": groups, "u": "UN"}), threshold=1.0)
    assert two.flag.iloc[:6].tolist() == [True, False, False, False, False, True]


def test_isolation_forest_flags_planted_outliers_more_than_inliers() -> None:
    rng = np.random.default_rng(0)
    parts = []
    for g in range(5):
        price = np.exp(rng.normal(3 + g, 0.3, 300))
        price[:6] *= rng.uniform(10, 40, 6)  # planted overprices
        parts.append(
            pd.DataFrame(
                {"classe": f"C{g}", "un": "UN", "preco": price, "planted": np.arange(300) < 6}
            )
        )
    parts.append(
        pd.DataFrame(
            {"classe": "tiny", "un": "UN", "preco": [1.0] * 10 + [100.0], "planted": False}
        )
    )
    frame = pd.concat(parts, ignore_index=True)
    out = ml.isolation_scores(frame, ["classe", "un"], "preco")
    assert out.index.equals(frame.index)
    big = frame.classe != "tiny"
    planted = frame.planted.to_numpy()
    assert out.flag[planted].mean() >= 0.8 and out.flag[big & ~planted].mean() < 0.02
    assert out.score[planted].min() > out.score[big & ~planted].quantile(0.9)
    assert out.score[~big].isna().all() and not out.flag[~big].any()  # n < 20
    pd.testing.assert_frame_equal(out, ml.isolation_scores(frame, ["classe", "un"], "preco"))
    z = ml.robust_z(frame.preco, frame[["classe", "un"]])
    assert z.flag[planted].all() and z.flag[big & ~planted].mean() < 0.01


def test_two_classes_work_too() -> None:
    data = make_items(1500, 2, seed=5)
    m = ml.train(data.descricao, data.classe, groups=data.compra, target_precision=0.9)
    out = m.predict(data.descricao[:50])
    assert set(out.top3[0]) == {"C000", "C001"}
    assert (out.prob >= 0.5).all()
    assert m.metadata.metrics["accuracy"] > 0.8


def test_the_one_feature_isolation_forest_agrees_with_scikit_learns() -> None:
    from sklearn.ensemble import IsolationForest

    rng = np.random.default_rng(1)
    x = rng.normal(0, 0.4, 400)
    x[:5] += np.log(rng.uniform(8, 40, 5))
    ours = ml._isolation_forest_1d(x, n_estimators=100, max_samples=256, rng=rng)
    theirs = -IsolationForest(random_state=0).fit(x[:, None]).score_samples(x[:, None])
    assert np.corrcoef(np.argsort(np.argsort(ours)), np.argsort(np.argsort(theirs)))[0, 1] > 0.85
    assert abs(ours.mean() - theirs.mean()) < 0.02
    np.testing.assert_allclose(ours[:5], theirs[:5], atol=0.03)
