"""sqlite-vec: an encoded corpus into a ``vec0`` table (``int8[dim] distance_metric=cosine``), one call each.

The int8 rows go in as they are (cosine ignores each row's scale)::

    store = index_corpus("docs.m2vec", "docs.db")          # or (int8, scale), floats, .parquet
    hits = store.search(model.encode("a query"), top_k=10)  # [StoreHit(row, id, score)], best first
    SqliteVecStore.open("docs.db").search(...)              # later, or in another process

Needs ``m2v-edge[sqlite]`` (``sqlite-vec``, and ``apsw`` for Pythons whose ``sqlite3`` cannot load extensions,
such as pyenv and python.org macOS builds; the standard ``sqlite3`` is used when it can).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from m2v_edge.extras import require
from m2v_edge.integrations.stores import Corpus, StoreHit, check_top_k, int8_queries, read_corpus

# One table layout and one SQL for this module and the npm package's m2v-edge/sqlite-vec (scripts/gen_contract.py
# writes it into web/src/contract.js). {table} matches "name" (checked first), {dim} is the vector width; corpus
# row i is rowid i + 1; <table>_ids holds the ids; "dim" finds the width in the table's CREATE statement.
SQLITE_VEC = {
    "table": "m2v_docs",
    "name": r"^[A-Za-z_][A-Za-z0-9_]*$",
    "create": "CREATE VIRTUAL TABLE {table} USING vec0(embedding int8[{dim}] distance_metric=cosine)",
    "create_ids": "CREATE TABLE {table}_ids (rowid INTEGER PRIMARY KEY, id TEXT)",
    "insert": "INSERT INTO {table}(rowid, embedding) VALUES (?, vec_int8(?))",
    "insert_id": "INSERT INTO {table}_ids VALUES (?, ?)",
    "exists": "SELECT 1 FROM sqlite_master WHERE name IN (?, ?)",
    "schema": "SELECT sql FROM sqlite_master WHERE name = ?",
    "dim": r"int8\[(\d+)\]",
    "search": (
        "SELECT v.rowid, v.distance, i.id FROM {table} v LEFT JOIN {table}_ids i ON i.rowid = v.rowid "
        "WHERE v.embedding MATCH vec_int8(?) AND k = ? ORDER BY v.distance"
    ),
}
DEFAULT_TABLE = SQLITE_VEC["table"]
_NAME = re.compile(SQLITE_VEC["name"])


def connect(path: str | Path = ":memory:") -> Any:
    """A SQLite connection with sqlite-vec loaded: the standard ``sqlite3`` if it can load extensions, else apsw.

    :raises MissingExtraError: if ``sqlite-vec`` (or, where needed, ``apsw``) is not installed.
    """
    require("sqlite", "sqlite_vec", what="sqlite-vec")
    import sqlite3

    import sqlite_vec

    conn: Any = sqlite3.connect(str(path))
    if not hasattr(conn, "enable_load_extension"):  # this Python's sqlite3 was built without extension loading
        conn.close()
        require("sqlite", "apsw", what="sqlite-vec on a Python whose sqlite3 cannot load extensions")
        import apsw

        conn = apsw.Connection(str(path))
    conn.enable_load_extension(True)
    sqlite_vec.load(conn)
    conn.enable_load_extension(False)
    return conn


class SqliteVecStore:
    """A ``vec0`` table of int8 rows (cosine) and a ``<table>_ids`` table of the corpus ids."""

    def __init__(self, connection: Any, table: str = DEFAULT_TABLE):
        if not _NAME.match(table):
            raise ValueError(f"table {table!r}: use letters, digits and underscores")
        self.connection, self.table = connection, table
        found = connection.execute(SQLITE_VEC["schema"], (table,)).fetchall()
        match = re.search(SQLITE_VEC["dim"], found[0][0]) if found else None
        if match is None:
            raise ValueError(f"no sqlite-vec table {table!r} of int8 rows here; create it with index_corpus")
        self.dim = int(match.group(1))

    @classmethod
    def open(cls, path: str | Path, table: str = DEFAULT_TABLE) -> SqliteVecStore:
        """Open a database written by :func:`index_corpus`.

        :raises FileNotFoundError: if the file does not exist.
        """
        if not Path(path).is_file():
            raise FileNotFoundError(f"{path}: no such database; write it with index_corpus(corpus, {str(path)!r})")
        return cls(connect(path), table)

    def search(self, queries: np.ndarray, top_k: int = 10) -> list[StoreHit] | list[list[StoreHit]]:
        """The ``top_k`` nearest rows by cosine to a query vector (or to each of ``[n, dim]``), best first."""
        k = check_top_k(top_k)
        rows, single = int8_queries(queries, self.dim)
        sql = SQLITE_VEC["search"].format(table=self.table)
        out = [
            [
                StoreHit(int(r) - 1, d, 0.0 if dist is None else float(1.0 - dist))  # None: a zero query
                for r, dist, d in self.connection.execute(sql, (q.tobytes(), k))
            ]
            for q in rows
        ]
        return out[0] if single else out


def index_corpus(
    corpus: Corpus, db: str | Path | Any = ":memory:", table: str = DEFAULT_TABLE, ids: list[str] | None = None
) -> SqliteVecStore:
    """Write an encoded corpus into a new sqlite-vec table and return the store (row ``i`` is rowid ``i + 1``).

    Zero rows (empty texts) are not stored: they have no direction, and sqlite-vec would rank them first.

    :param corpus: see :func:`m2v_edge.integrations.stores.read_corpus` (``.m2vec``, int8 Parquet, ...).
    :param db: a database path, or an open connection with sqlite-vec loaded (:func:`connect`).
    :param table: the ``vec0`` table to create (``<table>_ids`` holds the ids).
    :raises ValueError: if the table exists (nothing is overwritten) or the corpus is unreadable.
    """
    data = read_corpus(corpus, ids)
    conn = connect(db) if isinstance(db, (str, Path)) else db
    if not _NAME.match(table):
        raise ValueError(f"table {table!r}: use letters, digits and underscores")
    if conn.execute(SQLITE_VEC["exists"], (table, f"{table}_ids")).fetchall():
        raise ValueError(f"table {table!r} exists in {db}; pick another table name or database")
    with conn:
        conn.execute(SQLITE_VEC["create"].format(table=table, dim=data.dim))
        conn.execute(SQLITE_VEC["create_ids"].format(table=table))
        # A zero row (an empty text) is left out: sqlite-vec gives it a NULL distance, which ranks first.
        rows = ((i + 1, row.tobytes()) for i, row in enumerate(data.vectors) if row.any())
        conn.executemany(SQLITE_VEC["insert"].format(table=table), rows)
        if data.ids is not None:
            conn.executemany(SQLITE_VEC["insert_id"].format(table=table), enumerate(data.ids, start=1))
    return SqliteVecStore(conn, table)
