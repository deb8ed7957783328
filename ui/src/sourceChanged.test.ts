// Run summaries tell rows whose source row changed apart from rows whose
// synced (mapped) values changed.

import { describe, expect, it } from "vitest";
import { countsSummary, sourceChangeNote } from "./format";

const rows = (changed: number, source_changed?: number) => ({ queried: 10, added: 1, changed, removed: 0, source_changed });

describe("source changes in run summaries", () => {
  it("says how many rows changed in the source and how many in the synced columns", () => {
    expect(countsSummary({ mode: "diff", rows: rows(3, 5) })).toBe(
      "1 added, 3 changed, 0 removed (5 rows changed in the source; 3 changed in the columns this sync sends)",
    );
    expect(sourceChangeNote({ mode: "diff", rows: rows(0, 1) })).toBe("1 row changed in the source; none changed in the columns this sync sends");
  });

  it("says nothing more when every source change reached the synced columns, or when it is not known", () => {
    expect(countsSummary({ mode: "diff", rows: rows(3, 3) })).toBe("1 added, 3 changed, 0 removed");
    // Older records have no source count.
    expect(countsSummary({ mode: "diff", rows: rows(3) })).toBe("1 added, 3 changed, 0 removed");
    expect(sourceChangeNote({ mode: "diff", rows: rows(3, 0) })).toBeNull();
    expect(sourceChangeNote({ mode: "insert", rows: rows(0, 4) })).toBeNull();
  });
});
