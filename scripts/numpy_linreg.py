"""NumPy's side of `skadi bench linreg`: linear regression by batch gradient descent on
the same Parquet file, the same update rule as Skadi (skadi_common::ml): per epoch the
residuals r = Xw + b - y, the gradient [mean(r), Xᵀr / n], the loss mean(r²), and
w -= lr * gradient. The data is read (through DuckDB) and laid out before the clock starts;
one warm-up epoch, then each epoch is timed on its own.

    python3 numpy_linreg.py FILE LABEL LEARNING_RATE EPOCHS FEATURE...

Prints "epoch_ms MEDIAN", "rows N" and "coefficients B W1 W2 ..." (after EPOCHS epochs,
warm-up included, from zeros) so the caller can check both engines computed the same.
Set OPENBLAS_NUM_THREADS / OMP_NUM_THREADS to pick NumPy's threads.
"""
import statistics
import sys
import time

import duckdb
import numpy as np


def main():
    path, label, lr, epochs = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    features = sys.argv[5:]
    columns = ", ".join(f'"{c}"' for c in features + [label])
    data = duckdb.sql(f"SELECT {columns} FROM read_parquet('{path}')").fetchnumpy()
    x = np.ascontiguousarray(np.column_stack([np.asarray(data[c], dtype=np.float64) for c in features]))
    y = np.asarray(data[label], dtype=np.float64)
    n = len(y)
    w = np.zeros(len(features) + 1)
    gradient = np.empty_like(w)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        r = x @ w[1:]
        r += w[0]
        r -= y
        gradient[0] = r.sum() / n
        gradient[1:] = (r @ x) / n
        loss = (r @ r) / n
        w -= lr * gradient
        times.append(time.perf_counter() - start)
    assert np.isfinite(loss)
    timed = times[1:] or times
    print(f"epoch_ms {statistics.median(timed) * 1e3:.4f}")
    print(f"rows {n}")
    print("coefficients " + " ".join(repr(float(v)) for v in w))


if __name__ == "__main__":
    main()
