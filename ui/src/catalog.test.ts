import { describe, expect, it } from "vitest";
import { baseName, describeSource, mergeModels, mergeSources, slug, upsert } from "./catalog";
import type { WorkspaceModel } from "./types";

const ws: WorkspaceModel[] = [
  { file: "a.toml", syncId: "a", source: { type: "sqlite", path: "demo.db" }, model: { id: "customers", name: "Customers", sql: "s", primary_key: "id" } },
  { file: "b.toml", syncId: "b", source: { type: "sqlite", path: "demo.db" }, model: { id: "customers", name: "Customers", sql: "s", primary_key: "id" } },
  { file: "c.toml", syncId: null, source: { type: "csv", path: "in/x.csv" }, model: { name: "orders", primary_key: ["o", "l"] } },
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
});
