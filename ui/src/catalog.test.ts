import { describe, expect, it } from "vitest";
import { baseName, describeSource, freeModelId, guessKey, hasLocation, mergeModels, mergeSources, modelKey, redactUrl, sameModel, sharedIds, slug, sourceKey, sourceName, takesSql, upsert, urlHasPassword } from "./catalog";
import type { WorkspaceModel } from "./bindings";

const ws: WorkspaceModel[] = [
  { file: "a.toml", sync_id: "a", source: { type: "sqlite", path: "demo.db" }, model: { id: "customers", name: "Customers", sql: "s", primary_key: "id" } },
  { file: "b.toml", sync_id: "b", source: { type: "sqlite", path: "demo.db" }, model: { id: "customers", name: "Customers", sql: "s", primary_key: "id" } },
  { file: "c.toml", sync_id: null, source: { type: "csv", path: "in/x.csv" }, model: { name: "orders", primary_key: ["o", "l"] } },
];

describe("catalog", () => {
  it("merges sources by type and path, with their sync files", () => {
    const s = mergeSources([{ name: "Shop", source: { type: "sqlite", path: "demo.db" } }], ws);
    expect(s.map((x) => [x.name, x.saved, x.usedBy])).toEqual([
      ["Shop", true, ["a.toml", "b.toml"]],
      ["x.csv", false, ["c.toml"]],
    ]);
  });
  it("merges models by id (name when there is no id)", () => {
    const m = mergeModels([{ id: "new", name: "A new one", source: { type: "sqlite", path: "d.db" }, sql: "q", primary_key: "k" }], ws);
    expect(m.map((x) => [x.id, x.saved, x.usedBy.map((u) => u.file)])).toEqual([
      ["new", true, []],
      ["customers", false, ["a.toml", "b.toml"]],
      ["orders", false, ["c.toml"]],
    ]);
  });
  it("a saved model keeps its own definition but lists the files using it", () => {
    const m = mergeModels([{ id: "customers", name: "Customers v2", source: { type: "sqlite", path: "demo.db" }, sql: "new", primary_key: "id" }], ws);
    expect(m[0].sql).toBe("new");
    expect(m[0].usedBy).toHaveLength(2);
  });
  it("helpers", () => {
    expect(baseName("a/b\\c.db")).toBe("c.db");
    expect(describeSource({ type: "csv", path: "x.csv", delimiter: "\t", header: false })).toBe("CSV x.csv (delimiter tab, no header)");
    expect(slug("Orders by Day — été")).toBe("orders-by-day-ete");
    expect(upsert([1, 2], 3, (x) => x === 2)).toEqual([1, 3]);
    expect(upsert([1], 3, (x) => x === 2)).toEqual([1, 3]);
  });
  describe("database servers", () => {
    const pg = { type: "postgres" as const, url: "postgres://u:secret@db.example.com/shop?sslmode=require", password: undefined };
    it("describes them without the password, with the default port", () => {
      expect(describeSource(pg)).toBe("PostgreSQL u@db.example.com:5432/shop");
      expect(describeSource({ type: "mysql", url: "mysql://ann@10.0.0.5:3307/sales", password: "env:MYSQL_PW" })).toBe("MySQL ann@10.0.0.5:3307/sales");
      expect(describeSource({ type: "postgres", url: "postgresql://bob@[::1]/d" })).toBe("PostgreSQL bob@::1:5432/d");
      expect(describeSource({ type: "postgres", url: "" })).toBe("PostgreSQL (no URL)");
      expect(describeSource({ type: "postgres", url: "not a url u:secret@h" })).not.toContain("secret");
    });
    it("keys them by the URL without the password", () => {
      expect(sourceKey(pg)).toBe("postgres:postgres://u@db.example.com/shop?sslmode=require");
      expect(sourceKey({ type: "postgres", url: "postgres://u@db.example.com/shop?sslmode=require" })).toBe(sourceKey(pg));
      expect(sourceKey({ type: "mysql", url: "mysql://u@h/db" })).not.toBe(sourceKey({ type: "postgres", url: "mysql://u@h/db" }));
      // The core's aliases are the same source.
      expect(sourceKey({ type: "postgresql" as "postgres", url: "postgres://u@h/db" })).toBe(sourceKey({ type: "postgres", url: "postgres://u@h/db" }));
    });
    it("never shows a password, wherever it sits", () => {
      for (const url of [
        "postgres://u:secret@h/db",
        "postgres://u:se/cr@et@h:5432/db",
        "mysql://u:secret@h/db?password=secret&sslmode=require",
        "postgres://u:secret@h",
      ]) {
        const s = { type: "postgres" as const, url };
        for (const shown of [describeSource(s), sourceKey(s), sourceName(s), redactUrl(url)]) expect(shown).not.toContain("secret");
        expect(urlHasPassword(url)).toBe(true);
      }
      expect(redactUrl("mysql://u:secret@h/db?password=secret&sslmode=require")).toBe("mysql://u@h/db?sslmode=require");
      expect(urlHasPassword("postgres://u@h/db")).toBe(false);
    });
    it("names them host/database and takes SQL; a URL is their location", () => {
      expect(sourceName(pg)).toBe("db.example.com/shop");
      expect(mergeSources([], [{ file: "p.toml", sync_id: "p", source: pg, model: { name: "m", sql: "select 1", primary_key: "id" } }])[0].name).toBe("db.example.com/shop");
      expect(takesSql(pg)).toBe(true);
      expect(takesSql({ type: "sqlite" })).toBe(true);
      expect(takesSql({ type: "csv" })).toBe(false);
      expect(hasLocation(pg)).toBe(true);
      expect(hasLocation({ type: "mysql", url: " ", path: "x.db" })).toBe(false);
      expect(hasLocation({ type: "sqlite", path: "x.db" })).toBe(true);
    });
  });
});

describe("models are keyed by source and id", () => {
  const pg = { type: "postgres" as const, url: "postgres://u:secret@db/shop" };
  it("never merges two databases' models that share an id", () => {
    const m = mergeModels([{ id: "customers", name: "Customers", source: pg, sql: "select * from c", primary_key: "id" }], ws);
    const customers = m.filter((x) => x.id === "customers");
    expect(customers.map((x) => [x.saved, describeSource(x.source), x.usedBy.map((u) => u.file)])).toEqual([
      [true, "PostgreSQL u@db:5432/shop", []], // same name: by source name, "db/shop" first
      [false, "SQLite demo.db", ["a.toml", "b.toml"]],
    ]);
    expect(new Set(customers.map((x) => x.key)).size).toBe(2);
    expect(modelKey(customers[0])).toBe("postgres:postgres://u@db/shop#customers"); // no password in a key
    expect([...sharedIds(m)]).toEqual(["customers"]);
  });
  it("says which files hold a copy that differs from the saved model", () => {
    const m = mergeModels([{ id: "customers", name: "Customers", source: { type: "sqlite", path: "demo.db" }, sql: "new", primary_key: "id" }], [
      ...ws.slice(0, 1),
      { ...ws[1], model: { ...ws[1].model, sql: "new" } },
    ]);
    expect(m[0].usedBy.map((u) => [u.file, u.differs])).toEqual([
      ["a.toml", true],
      ["b.toml", false],
    ]);
  });
  it("compares copies by name, SQL and key", () => {
    const a = { name: "C", sql: "select 1\n", primary_key: "id" };
    expect(sameModel(a, { name: "C", sql: "select 1", primary_key: ["id"] })).toBe(true);
    expect(sameModel(a, { name: "C", sql: "select 2", primary_key: "id" })).toBe(false);
    expect(sameModel(a, { name: "C", sql: "select 1", primary_key: ["id", "x"] })).toBe(false);
    expect(sameModel(a, { name: "D", sql: "select 1", primary_key: "id" })).toBe(false);
  });
  it("finds a free id on a source", () => {
    const models = mergeModels([], ws);
    const demo = { type: "sqlite" as const, path: "demo.db" };
    expect(freeModelId("customers", demo, models)).toBe("customers-2");
    expect(freeModelId("customers", pg, models)).toBe("customers");
    expect(freeModelId("customers", demo, models, modelKey({ id: "customers", source: demo }))).toBe("customers");
  });
});

describe("guessKey", () => {
  const col = (name: string, declared_type: string | null) => ({ name, declared_type, observed_type: "integer" });
  it("preselects a declared integer id column that is unique in the rows shown", () => {
    expect(guessKey([col("email", "TEXT"), col("id", "INTEGER")], [["a", "1"], ["b", "2"]])).toBe("id");
    expect(guessKey([col("customer_id", "INTEGER"), col("n", "INTEGER")], [["1", "5"]])).toBe("customer_id");
    expect(guessKey([col("customer_id", "int8")], [])).toBe("customer_id");
  });
  it("guesses nothing it cannot back", () => {
    expect(guessKey([col("id", "TEXT")], [["1"]])).toBeNull(); // not declared as an integer
    expect(guessKey([col("id", null)], [["1"]])).toBeNull(); // not declared (a CSV, an expression)
    expect(guessKey([col("id", "INTEGER")], [["1"], ["1"]])).toBeNull(); // repeats
    expect(guessKey([col("id", "INTEGER")], [[null]])).toBeNull(); // NULL
    expect(guessKey([col("n", "INTEGER"), col("order_id", "INTEGER")], [["1", "2"]])).toBeNull(); // "…_id" not first: a reference
  });
});
