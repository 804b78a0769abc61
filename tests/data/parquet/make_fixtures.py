"""Writes the Parquet files the `parquet` tests read (run once; the files are committed).

    python3 make_fixtures.py        # needs pyarrow and pandas

mixed.parquet      10 rows in 3 row groups (4, 4, 2), snappy: int64 `i`, float64 `f` with a
                   null, bool `b`, string `s` with a null, int32 `n` with a null, bool `bn` with
                   a null, float32 `g`, and the all-null `z`
pandas.parquet     written by pandas' DataFrame.to_parquet (its index metadata included)
timestamps.parquet an int64 `i` and a timestamp `t`, which dagr has no column for
"""
import datetime

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

mixed = pa.table(
    {
        "i": pa.array(range(10), pa.int64()),
        "f": pa.array([0.5, 1.5, None, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5], pa.float64()),
        "b": pa.array([i % 3 == 0 for i in range(10)], pa.bool_()),
        "s": pa.array(["a", "b", "c", None, "e", "f", "g", "h", "i", "j"], pa.string()),
        "n": pa.array([10, 11, 12, 13, 14, 15, 16, 17, 18, None], pa.int32()),
        "bn": pa.array([True, None, False, True, False, True, False, True, False, True]),
        "g": pa.array([float(i) / 4 for i in range(10)], pa.float32()),
        "z": pa.nulls(10),
    }
)
pq.write_table(mixed, "mixed.parquet", row_group_size=4, compression="snappy")

pd.DataFrame(
    {"k": ["x", "y", "x"], "v": [1.25, -2.0, 3.0], "c": [3, 2, 1]}
).to_parquet("pandas.parquet")

pq.write_table(
    pa.table(
        {
            "i": pa.array([1, 2], pa.int64()),
            "t": pa.array([datetime.datetime(2024, 1, 1), datetime.datetime(2024, 1, 2)]),
        }
    ),
    "timestamps.parquet",
)
