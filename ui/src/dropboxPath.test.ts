import { describe, expect, it } from "vitest";
import { breadcrumbs, folderNameProblem, join, normalize, parent, webUrl } from "./dropboxPath";

describe("dropbox paths", () => {
  it("normalize", () => {
    expect(normalize("")).toBe("/");
    expect(normalize("/")).toBe("/");
    expect(normalize("Exports/2024/")).toBe("/Exports/2024");
    expect(normalize(null)).toBe("/");
  });
  it("split into breadcrumbs", () => {
    expect(breadcrumbs("/")).toEqual([{ label: "Dropbox", path: "/" }]);
    expect(breadcrumbs("/Exports/2024")).toEqual([
      { label: "Dropbox", path: "/" },
      { label: "Exports", path: "/Exports" },
      { label: "2024", path: "/Exports/2024" },
    ]);
  });
  it("join and parent", () => {
    expect(join("/", "a")).toBe("/a");
    expect(join("/a", " b/ ")).toBe("/a/b");
    expect(parent("/a/b")).toBe("/a");
    expect(parent("/a")).toBe("/");
    expect(parent("/")).toBe("/");
  });
  it("check new folder names", () => {
    expect(folderNameProblem(" ")).toMatch(/Type a name/);
    expect(folderNameProblem("a/b")).toMatch(/cannot contain/);
    expect(folderNameProblem("Reports 2024")).toBeNull();
  });
  it("link to the web", () => {
    expect(webUrl("/")).toBe("https://www.dropbox.com/home");
    expect(webUrl("/My Exports/ü")).toBe("https://www.dropbox.com/home/My%20Exports/%C3%BC");
  });
});
