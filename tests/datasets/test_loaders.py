"""ib.datasets.load_sklearn and ib.datasets.load: formats, labels, errors naming the file, no sklearn."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import implicit_bias as ib
from implicit_bias import datasets

X3 = np.array([[1.0, 2.0, 0.5], [-1.0, 0.5, 2.0], [0.25, -3.0, 1.0], [2.0, 1.0, -1.0]])
Y3 = np.array([1.0, -1.0, 1.0, -1.0])


@pytest.fixture
def no_sklearn(monkeypatch):
    """Make ``import sklearn`` (and its submodules) fail as if scikit-learn were not installed."""
    for name in list(sys.modules):
        if name == "sklearn" or name.startswith("sklearn."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)


# ============================================================================ scikit-learn


def test_load_sklearn_digits_01_is_separable():
    pytest.importorskip("sklearn")
    X, y = ib.datasets.load_sklearn("digits", classes=(0, 1))
    assert X.dtype == np.float64 and y.dtype == np.float64
    assert X.flags.c_contiguous and y.flags.c_contiguous
    assert X.shape[0] == y.shape[0] == 360  # 178 zeros + 182 ones
    assert set(np.unique(y)) == {-1.0, 1.0} and int((y == -1).sum()) == 178
    assert X.shape[1] < 64  # the always-blank pixels are dropped
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(X.std(axis=0), 1, rtol=1e-12)
    assert ib.datasets.is_separable(X, y)


def test_load_sklearn_classes_map_to_minus_and_plus():
    skd = pytest.importorskip("sklearn.datasets")
    raw = skd.load_iris()
    X, y = ib.datasets.load_sklearn("iris", classes=(2, 0), standardize=False)
    keep = np.isin(raw.target, (0, 2))
    np.testing.assert_array_equal(X, raw.data[keep])  # order of the data set, raw features
    np.testing.assert_array_equal(y, np.where(raw.target[keep] == 0, 1.0, -1.0))
    Xn, yn = ib.datasets.load_sklearn("iris", classes=("virginica", "setosa"), standardize=False)
    np.testing.assert_array_equal(Xn, X)
    np.testing.assert_array_equal(yn, y)
    assert ib.datasets.is_separable(X, y)


@pytest.mark.parametrize("name,classes,d", [("wine", (0, 1), 13), ("breast_cancer", None, 30), ("iris", (0, 1), 4)])
def test_load_sklearn_every_bundled_set(name, classes, d):
    pytest.importorskip("sklearn")
    X, y = ib.datasets.load_sklearn(name, classes=classes)
    assert X.ndim == 2 and X.shape[1] == d and y.shape == (X.shape[0],)
    assert np.all(np.isfinite(X)) and set(np.unique(y)) == {-1.0, 1.0}


def test_load_sklearn_breast_cancer_default_classes():
    skd = pytest.importorskip("sklearn.datasets")
    _, y = ib.datasets.load_sklearn("breast_cancer")
    target = skd.load_breast_cancer().target
    np.testing.assert_array_equal(y, np.where(target == 1, 1.0, -1.0))  # benign = +1


def test_load_sklearn_options():
    pytest.importorskip("sklearn")
    X_all, _ = ib.datasets.load_sklearn("digits", classes=(3, 8), drop_zero_features=False)
    assert X_all.shape[1] == 64
    X_raw, _ = ib.datasets.load_sklearn("digits", classes=(3, 8), standardize=False, drop_zero_features=False)
    assert X_raw.max() == 16.0 and X_raw.min() == 0.0
    X_ld, y_ld = ib.datasets.load_sklearn("digits", classes=(3, 8), dtype=np.longdouble)
    assert X_ld.dtype == np.longdouble and y_ld.dtype == np.longdouble


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"name": "mnist", "classes": (0, 1)}, "unknown scikit-learn data set 'mnist'"),
        ({"name": "digits"}, "digits has 10 classes"),
        ({"name": "digits", "classes": (0, 10)}, "no class 10"),
        ({"name": "digits", "classes": (1, 1)}, "must differ"),
        ({"name": "digits", "classes": (0, 1, 2)}, "pair"),
        ({"name": "digits", "classes": "01"}, "pair"),
        ({"name": "iris", "classes": ("setosa", "rose")}, "no class 'rose'"),
        ({"name": "iris", "classes": (0, 1.0)}, "class numbers or names"),
    ],
)
def test_load_sklearn_bad_arguments(kwargs, match):
    pytest.importorskip("sklearn")
    with pytest.raises(ValueError, match=match):
        ib.datasets.load_sklearn(**kwargs)


def test_load_sklearn_without_sklearn_names_the_extra(no_sklearn):
    with pytest.raises(ImportError, match=r'pip install "implicit-bias\[sklearn\]"'):
        ib.datasets.load_sklearn("digits", classes=(0, 1))
    with pytest.raises(ValueError, match="unknown"):  # argument errors still come first
        ib.datasets.load_sklearn("nope")


# ============================================================================ files


def _check(X, y):
    assert X.dtype == np.float64 and y.dtype == np.float64
    np.testing.assert_array_equal(X, X3)
    np.testing.assert_array_equal(y, Y3)


def test_npy_labels_in_last_column(tmp_path):
    path = tmp_path / "data.npy"
    np.save(path, np.column_stack([X3, Y3]))
    _check(*ib.datasets.load(path))
    _check(*ib.datasets.load(str(path)))


def test_npz_x_and_y(tmp_path):
    path = tmp_path / "data.npz"
    np.savez(path, X=X3, y=Y3.astype(np.int64), extra=np.arange(3))
    _check(*datasets.load(path))


def test_npz_column_vector_labels(tmp_path):
    path = tmp_path / "data.npz"
    np.savez(path, X=X3, y=Y3[:, None])
    _check(*datasets.load(path))


def test_csv_without_and_with_header(tmp_path):
    plain = tmp_path / "plain.csv"
    plain.write_text("\n".join(",".join(f"{float(v)!r}" for v in [*x, t]) for x, t in zip(X3, Y3)) + "\n\n")
    _check(*datasets.load(plain))
    header = tmp_path / "header.csv"
    header.write_text("a,b,c,label\n" + plain.read_text())
    _check(*datasets.load(header))
    # a header may put the label column anywhere
    moved = tmp_path / "moved.csv"
    rows = [",".join([f"{t:g}", *(f"{float(v)!r}" for v in x)]) for x, t in zip(X3, Y3)]
    moved.write_text("y,a,b,c\n" + "\n".join(rows) + "\n")
    _check(*datasets.load(moved))


def test_zero_one_labels_become_minus_one_plus_one(tmp_path):
    path = tmp_path / "01.csv"
    path.write_text("".join(f"{x[0]},{x[1]},{x[2]},{int(t > 0)}\n" for x, t in zip(X3, Y3)))
    _check(*datasets.load(path))
    npz = tmp_path / "01.npz"
    np.savez(npz, X=X3, y=(Y3 > 0))
    _check(*datasets.load(npz))


def test_svmlight(tmp_path):
    pytest.importorskip("sklearn")
    lines = []
    for x, t in zip(X3, Y3):
        feats = " ".join(f"{j + 1}:{float(v)!r}" for j, v in enumerate(x) if v != 0)
        lines.append(f"{int(t):+d} {feats}")
    for ext in (".svm", ".svmlight", ".libsvm"):
        path = tmp_path / f"data{ext}"
        path.write_text("\n".join(lines) + "\n")
        _check(*datasets.load(path))


def test_svmlight_without_sklearn(tmp_path, no_sklearn):
    path = tmp_path / "data.svm"
    path.write_text("+1 1:0.5 2:1\n-1 1:-1\n")
    with pytest.raises(ImportError, match=r"data\.svm.*implicit-bias\[sklearn\]"):
        datasets.load(path)
    npy = tmp_path / "data.npy"  # the other formats do not need scikit-learn
    np.save(npy, np.column_stack([X3, Y3]))
    _check(*datasets.load(npy))


def test_format_override_and_long_double(tmp_path):
    path = tmp_path / "data.txt"
    path.write_text("".join(f"{float(x[0])!r},{float(x[1])!r},{float(x[2])!r},{t:g}\n" for x, t in zip(X3, Y3)))
    X, y = datasets.load(path, format="csv", dtype=np.longdouble)
    assert X.dtype == np.longdouble and y.dtype == np.longdouble
    np.testing.assert_array_equal(X, X3.astype(np.longdouble))


def test_loaders_do_not_check_separability(tmp_path):
    path = tmp_path / "xor.npz"
    np.savez(path, X=np.array([[1.0, 1.0], [-1.0, -1.0]]), y=np.array([1.0, 1.0]))  # z_1 = -z_2
    X, y = datasets.load(path)
    assert not ib.datasets.is_separable(X, y)


def _save_npz(path, X, y):
    np.savez(path, X=X, y=y)
    return path


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda p: _save_npz(p / "d.npz", X3, np.array([1.0, 2.0, 1.0, 2.0])), r"labels must be -1 / \+1.*found 1, 2"),
        (lambda p: _save_npz(p / "d.npz", X3, np.array([1.0, 0.0, -1.0, 1.0])), "found -1, 0, 1"),
        (lambda p: _save_npz(p / "d.npz", X3, np.array([1.0, 0.5, -1.0, 1.0])), "found"),
        (
            lambda p: _save_npz(p / "d.npz", np.where(X3 > 1.5, np.nan, X3), Y3),
            r"X has 3 NaN or infinite entries \(first at row 0, column 1\)",
        ),
        (lambda p: _save_npz(p / "d.npz", X3, np.array([1.0, np.inf, -1.0, 1.0])), "y has 1 NaN or infinite"),
        (lambda p: _save_npz(p / "d.npz", X3[0], Y3), "X must be 2-dimensional"),
        (lambda p: _save_npz(p / "d.npz", X3, Y3[:3]), r"y must have shape \(4,\)"),
        (lambda p: _save_npz(p / "d.npz", X3[:0], Y3[:0]), "at least one sample"),
        (lambda p: _save_npz(p / "d.npz", X3.astype(complex), Y3), "real numbers"),
    ],
)
def test_bad_contents_name_the_file(tmp_path, make, match):
    path = make(tmp_path)
    with pytest.raises(ValueError, match=match) as exc:
        datasets.load(path)
    assert str(path) in str(exc.value)


def test_bad_files_name_the_file(tmp_path):
    cases = {}
    p = tmp_path / "one_column.npy"
    np.save(p, Y3[:, None])
    cases[p] = r"\(n, d \+ 1\) array.*shape \(4, 1\)"
    p = tmp_path / "vector.npy"
    np.save(p, Y3)
    cases[p] = "shape"
    p = tmp_path / "keys.npz"
    np.savez(p, features=X3, y=Y3)
    cases[p] = "missing X; found features, y"
    p = tmp_path / "objects.npz"
    np.savez(p, X=np.array([[1, "a"]], dtype=object), y=np.array([1.0]))
    cases[p] = "without pickles"
    p = tmp_path / "garbage.npy"
    p.write_bytes(b"not numpy at all")
    cases[p] = "not a readable NumPy file"
    p = tmp_path / "empty.csv"
    p.write_text("\n\n")
    cases[p] = "empty file"
    p = tmp_path / "header_only.csv"
    p.write_text("a,b,label\n")
    cases[p] = "a header but no data"
    p = tmp_path / "ragged.csv"
    p.write_text("1,2,1\n3,1\n")
    cases[p] = "line 2 has 2 columns"
    p = tmp_path / "words.csv"
    p.write_text("a,b,label\n1,2,1\n3,x,-1\n")
    cases[p] = "line 3: non-numeric"
    p = tmp_path / "one.csv"
    p.write_text("1\n-1\n")
    cases[p] = "at least two columns"
    p = tmp_path / "data.json"
    p.write_text("{}")
    cases[p] = "unknown extension '.json'"
    for path, match in cases.items():
        with pytest.raises(ValueError, match=match) as exc:
            datasets.load(path)
        assert str(path) in str(exc.value), path


def test_missing_file_and_bad_format(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.npz"):
        datasets.load(tmp_path / "nothing.npz")
    with pytest.raises(ValueError, match="format: must be one of"):
        datasets.load(tmp_path / "x.npz", format="parquet")


def test_svmlight_bad_file(tmp_path):
    pytest.importorskip("sklearn")
    path = tmp_path / "bad.svm"
    path.write_text("+1 zero:1\n")
    with pytest.raises(ValueError, match="bad.svm: not a valid svmlight"):
        datasets.load(path)
