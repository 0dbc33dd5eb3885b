/**
 * `m2v-edge/sqlite-vec`: an encoded corpus (the `.m2vec` file `m2v-edge encode` writes: int8 rows + a scale each)
 * into a sqlite-vec `vec0` table of `int8[dim]` rows with `distance_metric=cosine`, in one call, and its search.
 * The same table layout and SQL as Python's `m2v_edge.integrations.sqlite_store` (both read `SQLITE_VEC` in
 * contract.js, generated from sqlite_store.py by scripts/gen_contract.py), so a database written by one is searched by the other.
 *
 * SQLite itself is injected: pass the module of a WebAssembly SQLite with sqlite-vec compiled in (the official
 * build is the npm package `sqlite-vec-wasm-demo`, an optional peer dependency) or an `oo1.DB` opened from it.
 * This file imports no SQLite, so apps that do not use it never bundle one.
 *
 *   import sqlite3InitModule from "sqlite-vec-wasm-demo";
 *   import { indexCorpus } from "m2v-edge/sqlite-vec";
 *   const sqlite3 = await sqlite3InitModule();
 *   const store = await indexCorpus(sqlite3, await (await fetch("/docs.m2vec")).arrayBuffer(), { config });
 *   const [hits] = store.search([queryVector], 10);   // [{ index, id, score }], best first
 */

import { SQLITE_VEC as SQL } from "./contract.js";
import { checkFiniteQuery } from "./validate.js";
import { VectorFile } from "./vectors.js";

const NAME = new RegExp(SQL.name);
const DIM = new RegExp(SQL.dim);

/** @param {string} sql @param {string} table @param {number} [dim] */
function fill(sql, table, dim) {
  return sql.replaceAll("{table}", table).replaceAll("{dim}", String(dim));
}

/** @param {unknown} table @returns {string} */
function checkTable(table) {
  if (typeof table !== "string" || !NAME.test(table)) {
    throw new Error(`table ${JSON.stringify(table)}: use letters, digits and underscores`);
  }
  return table;
}

/**
 * An `oo1.DB` with sqlite-vec: the one given, or a new in-memory database of the module given, empty or holding
 * the bytes of a database file (e.g. `docs.db` written by Python's `sqlite_store.index_corpus`, fetched).
 * @param {any} sqlite the sqlite3 module (`await sqlite3InitModule()`) or an `oo1.DB` of it
 * @param {ArrayBuffer | Uint8Array} [file] a SQLite database file's bytes (with the module only)
 * @returns {any}
 */
export function openDatabase(sqlite, file) {
  const db = sqlite?.oo1?.DB ? new sqlite.oo1.DB(":memory:") : sqlite;
  if (file !== undefined) {
    if (!sqlite?.oo1?.DB) throw new TypeError("openDatabase(sqlite, file): pass the sqlite3 module with the file's bytes, not a database");
    const bytes = file instanceof Uint8Array ? file : new Uint8Array(file);
    const at = sqlite.wasm.allocFromTypedArray(bytes);
    const { sqlite3_deserialize, SQLITE_DESERIALIZE_FREEONCLOSE, SQLITE_DESERIALIZE_RESIZEABLE } = sqlite.capi;
    const flags = SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_RESIZEABLE;
    db.checkRc(sqlite3_deserialize(db.pointer, "main", at, bytes.byteLength, bytes.byteLength, flags));
  }
  if (typeof db?.selectValue !== "function" || typeof db?.prepare !== "function") {
    throw new TypeError(
      "expected the sqlite3 WebAssembly module or an oo1.DB of it: `import sqlite3InitModule from " +
        '"sqlite-vec-wasm-demo"; const sqlite3 = await sqlite3InitModule();` (npm install sqlite-vec-wasm-demo)',
    );
  }
  try {
    db.selectValue("SELECT vec_version()");
  } catch {
    throw new Error("this SQLite has no sqlite-vec (no vec_version()); use a build with it compiled in, e.g. npm sqlite-vec-wasm-demo");
  }
  return db;
}

/**
 * Symmetric int8 of one float row, as Python's `quantize_rows` (scale = max |x| / 127, round half to even).
 * @param {ArrayLike<number>} row
 * @returns {Int8Array}
 */
export function quantizeRow(row) {
  let peak = 0;
  for (let j = 0; j < row.length; j++) peak = Math.max(peak, Math.abs(row[j]));
  const scale = Math.fround(Math.fround(peak) / 127) || 1;
  const out = new Int8Array(row.length);
  for (let j = 0; j < row.length; j++) {
    const x = Math.fround(Math.fround(row[j]) / scale);
    const r = Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x);
    out[j] = Math.max(-127, Math.min(127, r));
  }
  return out;
}

export class SqliteVecStore {
  /**
   * A `vec0` table of int8 rows (cosine) written by {@link indexCorpus} (here or in Python), e.g. in a database
   * reopened from OPFS.
   * @param {any} db an `oo1.DB` with sqlite-vec
   * @param {string} [table]
   */
  constructor(db, table = SQL.table) {
    this.db = openDatabase(db);
    this.table = checkTable(table);
    const schema = this.db.selectValue(SQL.schema, [this.table]);
    const match = typeof schema === "string" ? DIM.exec(schema) : null;
    if (match === null) throw new Error(`no sqlite-vec table ${JSON.stringify(this.table)} of int8 rows here; create it with indexCorpus`);
    /** Vector width. */
    this.dim = Number(match[1]);
  }

  /**
   * The `topK` nearest rows by cosine to each query (float vectors of `dim` numbers, quantized to int8 as the
   * rows were; an Int8Array is taken as it is), best first: `index` is the corpus row, `id` its id or null.
   * @param {ArrayLike<number>[]} queries
   * @param {number} [topK]
   * @returns {{ index: number, id: string | null, score: number }[][]}
   */
  search(queries, topK = 10) {
    if (!Number.isInteger(topK) || topK < 1) throw new Error(`topK must be a positive integer, got ${JSON.stringify(topK)}`);
    if (!Array.isArray(queries) || typeof queries[0] === "number") {
      throw new Error("search takes an array of query vectors: store.search([vector], 10)");
    }
    const sql = fill(SQL.search, this.table);
    return queries.map((q, n) => {
      if (q?.length !== this.dim) throw new Error(`query ${n} has ${q?.length} dims, the store ${this.dim}; use the same model`);
      checkFiniteQuery(q, `query ${n}`);
      const row = q instanceof Int8Array ? q : quantizeRow(q);
      return this.db
        .selectArrays(sql, [row, topK])
        .map(([rowid, distance, id]) => ({ index: Number(rowid) - 1, id: id ?? null, score: distance === null ? 0 : 1 - distance }));
    });
  }
}

/**
 * Write an encoded corpus into a new sqlite-vec table and return the store (row `i` is rowid `i + 1`). Zero rows
 * (empty texts) are not stored: they have no direction, and sqlite-vec would rank them first (a NULL distance).
 * @param {any} sqlite the sqlite3 WebAssembly module with sqlite-vec (a new in-memory database) or an `oo1.DB`
 * @param {VectorFile | ArrayBuffer | ArrayBufferView} corpus a `.m2vec` file's bytes or a parsed VectorFile
 *   (float16 files are quantized to int8 here)
 * @param {{ table?: string, ids?: string[], config?: ArrayBuffer | ArrayBufferView | string, fingerprint?: string }} [options]
 *   `ids`: one per row; `config` (the export's config.json) or `fingerprint`: refuse vectors of another model
 * @returns {Promise<SqliteVecStore>}
 */
export async function indexCorpus(sqlite, corpus, options = {}) {
  const db = openDatabase(sqlite);
  const table = checkTable(options.table ?? SQL.table);
  const file = corpus instanceof VectorFile ? corpus : await VectorFile.fromBuffer(corpus, options);
  const ids = options.ids ?? null;
  if (ids !== null && (!Array.isArray(ids) || ids.length !== file.count)) {
    throw new Error(`${ids?.length} ids for ${file.count} vectors; give one id per row`);
  }
  if (db.selectValue(SQL.exists, [table, `${table}_ids`]) !== undefined) {
    throw new Error(`table ${JSON.stringify(table)} exists in this database; pick another table name or database`);
  }
  db.transaction(() => {
    db.exec(fill(SQL.create, table, file.dim));
    db.exec(fill(SQL.create_ids, table));
    insertAll(db, fill(SQL.insert, table), file.count, (i) => {
      const row = file.dtype === "int8" ? file.rows.subarray(i * file.dim, (i + 1) * file.dim) : quantizeRow(file.vector(i));
      return row.some((x) => x !== 0) ? row : null;
    });
    if (ids !== null) insertAll(db, fill(SQL.insert_id, table), ids.length, (i) => String(ids[i]));
  });
  return new SqliteVecStore(db, table);
}

/** Bind `[i + 1, value(i)]` for each row to one prepared statement (a null value: no row). */
function insertAll(db, sql, count, value) {
  const statement = db.prepare(sql);
  try {
    for (let i = 0; i < count; i++) {
      const v = value(i);
      if (v !== null) statement.bind([i + 1, v]).stepReset();
    }
  } finally {
    statement.finalize();
  }
}
